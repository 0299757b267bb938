import { ConfigError } from "../config.js";
import { VERSION } from "../version.js";

const usage = `currents ${VERSION}: stream engagement events to analytics partners

Usage:
  currents start [--port 4100] [--host 127.0.0.1] [--data-dir ./.currents] [--allow-private-endpoints]
  currents demo [--port 4100] [--rate 50] [--duration <seconds>]
  currents simulate --url <url> --key <ingest key> [--rate 100] [--duration 60]
  currents cohort-sync --url <url> --key <data import key> [--cohorts 3] [--users 5000] [--rounds 3]
  currents receiver [--port 4200] [--token <bearer token>]
  currents rotate-master-key [--data-dir ./.currents] [--new-key <64 hex>]
  currents currents list|show|create|launch|pause|resume|test|delete
  currents replay <current> --from <time> [--to <time>]
  currents keys create|list|revoke
  currents --version

Run "currents <command> --help" for a command's options.`;

/** The `currents` command line. Commands load lazily, so a quick one starts quickly. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "start":
        return await (await import("./start.js")).start(rest);
      case "demo":
        return await (await import("./demo.js")).demoCommand(rest);
      case "simulate":
        return await (await import("./simulate.js")).simulateCommand(rest);
      case "cohort-sync":
        return await (await import("./cohort-sync.js")).cohortSyncCommand(rest);
      case "receiver":
        return await (await import("./receiver.js")).receiverCommand(rest);
      case "currents":
      case "replay":
      case "keys":
        return await (await import("./manage.js")).manageCommand(command, rest);
      case "rotate-master-key":
        return await (await import("./rotate-master-key.js")).rotateMasterKeyCommand(rest);
      case "--version":
      case "-v":
        console.log(VERSION);
        return 0;
      case undefined:
        console.error(usage); // a usage error: to stderr, exit 2
        return 2;
      case "help":
      case "--help":
      case "-h":
        console.log(usage);
        return 0;
      default:
        console.error(`unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    const e = error as Error & { code?: string };
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" || e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      console.error(`${e.message}\n\n${usage}`);
      return 2;
    }
    console.error(`currents: ${e.message}`);
    return 1;
  }
}
