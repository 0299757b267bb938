import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { rotateMasterKey } from "../security/rotate-master-key.js";
import { loadMasterKey } from "../security/secret-box.js";
import { openStore } from "../store/open-store.js";

export const rotateUsage = `currents rotate-master-key [--data-dir ./.currents] [--new-key <64 hex characters>]

Re-encrypts every partner secret under a new master key. Stop the service first.
The current key comes from CURRENTS_MASTER_KEY or <data-dir>/master.key.`;

export async function rotateMasterKeyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" }, "new-key": { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log(rotateUsage);
    return 0;
  }
  const config = loadConfig({ dataDir: values["data-dir"] });
  const store = await openStore(config);
  try {
    const oldKey = loadMasterKey(config.dataDir, config.masterKey);
    const result = await rotateMasterKey(store, config.dataDir, oldKey, values["new-key"]);
    console.log(`re-encrypted the secrets of ${result.rotated} Current(s) and ${result.sources} source(s)`);
    if (result.keyFileWritten) {
      console.log(`the new master key is in ${config.dataDir}/master.key`);
    } else if (!values["new-key"]) {
      console.log(`set CURRENTS_MASTER_KEY=${result.newKeyHex} before the next start (shown once)`);
    } else {
      console.log("set CURRENTS_MASTER_KEY to the new key before the next start");
    }
    return 0;
  } finally {
    await store.close();
  }
}
