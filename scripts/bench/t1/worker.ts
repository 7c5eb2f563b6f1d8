// T1's worker process, started by the benchmark with `node --import tsx`. Every worker option is the
// SDK default (concurrency, cache size, pollers): T1 shows what Temporal does untuned.
import { NativeConnection, Worker } from '@temporalio/worker';
import { requiredEnv as required } from '../child-env';
import { createT1Activities } from './activities';

async function main() {
  const connection = await NativeConnection.connect({ address: required('T1_TEMPORAL_ADDRESS') });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: required('T1_TASK_QUEUE'),
    workflowBundle: { codePath: required('T1_WORKFLOW_BUNDLE') },
    activities: createT1Activities(required('T1_SINK_URL')),
  });
  // The SDK stops the worker on SIGTERM/SIGINT; run() then resolves.
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
