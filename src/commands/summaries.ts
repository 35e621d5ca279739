/**
 * The one-line summary of every command, in the order `--help` lists them. Light on purpose:
 * the CLI lists every command from here and loads only the module of the one invoked.
 */
export const COMMAND_SUMMARIES = {
  validate: "check every registration file and report every problem (no AWS needed)",
  plan: "show what apply would change in the registrations table (writes nothing)",
  diff: "show the changes between two desired states (directories or git refs); needs no AWS",
  apply: "converge the registrations table to the files once, and print what changed",
  run: "run the daemon: reconcile the table, poll CodeDeploy, send notifications, serve /healthz /readyz /metrics",
  status: "show registrations, leader, poller position, recent notifications and changes (reads the tables only)",
  "send-test": "send a clearly labelled test notification through a registration's real channels",
  init: "create the DynamoDB tables if they do not exist (idempotent)",
  schema: "print the JSON Schema of registration files",
} as const;

export type CommandName = keyof typeof COMMAND_SUMMARIES;
