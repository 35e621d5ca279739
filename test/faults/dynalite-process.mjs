// dynalite in a process of its own, for the DynamoDB outage test (test/faults/dynamodb.test.ts):
//   node dynalite-process.mjs <data folder> [port]
// Keeps its tables in <data folder> (so a restart finds them), listens on 127.0.0.1 and [port]
// (default: any free one) and prints {"port":N} once listening. Killing the process is the outage.
import dynalite from 'dynalite';

const [dataPath, port = '0'] = process.argv.slice(2);
if (!dataPath) {
  process.stderr.write('usage: node dynalite-process.mjs <data folder> [port]\n');
  process.exit(2);
}
const server = dynalite({ path: dataPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (error) => {
  process.stderr.write(`dynalite could not listen on 127.0.0.1:${port}: ${error.message}\n`);
  process.exit(1);
});
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
