// The workflow bundle's entry point: every workflow type the worker registers.
export { notificationWorkflowV2, notificationWorkflowV3, notificationWorkflowV4, notificationWorkflowV5, notificationWorkflowV6, notificationWorkflowV7 } from './notification';
export { deadLetterBatchWorkflow } from './dead-letter-batch';
// Kept until no run of the first version is left (see docs/upgrades.md).
export { notificationWorkflow } from './v1/notification';
