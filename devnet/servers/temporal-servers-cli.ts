/**
 * `npm run servers`: finds or builds the Temporal dev server, the time-skipping server and the Temporal
 * server of the production twin (see temporal-servers.ts), logs what it did on stderr and prints the
 * environment that points at them as JSON on stdout. CI runs it to warm the cache; the jest global setup reads its output.
 */
import { resolveTemporalCli, resolveTemporalServer, resolveTimeSkippingServer } from './temporal-servers.js';

const log = (line: string) => process.stderr.write(`[temporal-servers] ${line}\n`);
const cli = await resolveTemporalCli({ log });
const testServer = await resolveTimeSkippingServer({ log });
const server = await resolveTemporalServer({ log });
const describe = (exe: typeof cli) => (exe.type === 'existing-path' ? `${exe.path} (${exe.origin})` : exe.origin);
log(`dev server: ${describe(cli)}`);
log(`time-skipping server: ${describe(testServer)}`);
log(`Temporal server (production twin): ${server ? `${server.server} (${server.origin})` : 'none (no Go toolchain)'}`);

const env: Record<string, string> = {};
if (cli.type === 'existing-path') env.TEMPORAL_CLI_PATH = cli.path;
if (testServer.type === 'existing-path') env.TEMPORAL_TEST_SERVER_PATH = testServer.path;
if (server) {
  env.TEMPORAL_SERVER_PATH = server.server;
  env.TEMPORAL_SQL_TOOL_PATH = server.sqlTool;
}
if (process.env.TEMPORAL_TEST_SERVER_LIB) env.TEMPORAL_TEST_SERVER_LIB = process.env.TEMPORAL_TEST_SERVER_LIB;
process.stdout.write(JSON.stringify(env) + '\n');
