import { auditCommand } from './audit.js';
import { backupCommand } from './backup.js';
import { bootstrapCommand } from './bootstrap.js';
import { completionCommand } from './completion.js';
import { configCommand, envCommand, secretsCommand } from './config.js';
import { deployCommand, releasesCommand, rollbackCommand } from './deploy.js';
import { execCommand } from './exec.js';
import { failoverTestCommand } from './failover-test.js';
import { initCommand } from './init.js';
import { lockCommand } from './lock.js';
import { logsCommand } from './logs.js';
import { migrateCommand } from './migrate.js';
import { nodeCommand } from './node.js';
import { renderCommand } from './render.js';
import { restoreCommand, restoreTestCommand } from './restore.js';
import { statusCommand } from './status.js';
import { switchoverCommand } from './switchover.js';

/** Every command of the CLI, each defined in its own file. */
export const COMMANDS = [
  configCommand, renderCommand, statusCommand, bootstrapCommand, logsCommand, execCommand, auditCommand, switchoverCommand, failoverTestCommand,
  lockCommand, nodeCommand, secretsCommand, deployCommand, releasesCommand, rollbackCommand, migrateCommand, backupCommand, restoreCommand, restoreTestCommand, envCommand, initCommand, completionCommand,
];
