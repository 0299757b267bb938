import { ConfigError } from "../config.js";
import { VERSION } from "../version.js";
import { demoCommand, demoUsage } from "./demo.js";
import { receiverCommand, receiverUsage } from "./receiver.js";
import { rotateMasterKeyCommand, rotateUsage } from "./rotate-master-key.js";
import { simulateCommand, simulateUsage } from "./simulate.js";
import { start, startUsage } from "./start.js";

const usage = `currents ${VERSION}: stream engagement events to analytics partners

Usage:
  ${startUsage.split("\n")[0]}
  ${demoUsage.split("\n")[0]}
  ${simulateUsage.split("\n")[0]}
  ${receiverUsage.split("\n")[0]}
  ${rotateUsage.split("\n")[0]}
  currents --version

Run "currents <command> --help" for a command's options.`;

/** The `currents` command line. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "start":
        return await start(rest);
      case "demo":
        return await demoCommand(rest);
      case "simulate":
        return await simulateCommand(rest);
      case "receiver":
        return await receiverCommand(rest);
      case "rotate-master-key":
        return await rotateMasterKeyCommand(rest);
      case "--version":
      case "-v":
        console.log(VERSION);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(usage);
        return command === undefined ? 2 : 0;
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
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      console.error(`${e.message}\n\n${usage}`);
      return 2;
    }
    console.error(`currents: ${e.message}`);
    return 1;
  }
}
