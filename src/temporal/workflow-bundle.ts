import { bundleWorkflowCode, type BundleOptions, type WorkerOptions } from '@temporalio/worker';

/** The workflow bundle's entry point: every workflow type Herald's worker registers. */
export const WORKFLOWS_PATH = require.resolve('../../workflows');

/**
 * Our workflow modules hold no state of their own (only functions, constants and handler
 * definitions), so the worker loads them once and every workflow shares them. Without this, each
 * workflow the worker creates or replays evaluates all of them again, in its own copy, which costs
 * tens of KB for every workflow in the cache and CPU on every cache miss.
 */
export const WORKFLOW_BUNDLER_OPTIONS = { preloadModules: [WORKFLOWS_PATH] } satisfies WorkerOptions['bundlerOptions'];

/** Herald's workflow code bundled once (production images, tests, the benchmark), with the options the worker uses. */
export async function bundleHeraldWorkflows(logger?: BundleOptions['logger']): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...WORKFLOW_BUNDLER_OPTIONS, logger });
  return code;
}
