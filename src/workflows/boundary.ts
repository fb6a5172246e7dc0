// Validation at the Temporal boundary: a workflow input, signal or update payload that does not
// match its schema fails the workflow (or is dropped, for a signal) at once with the fields named.
// Anything else thrown in workflow code fails the workflow *task*, which Temporal retries forever.
import { ApplicationFailure, log } from '@temporalio/workflow';
import type { z } from 'zod';

export const INVALID_WORKFLOW_INPUT = 'InvalidWorkflowInput';

/** "field.path: message; ..." for the first few issues of a failed parse. */
export function describeIssues(error: z.ZodError, limit = 10): string {
  const shown = error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.map(String).join('.') || '(input)'}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** Parses a workflow's start input; a bad one fails the workflow, non-retryable, naming the fields. */
export function parseWorkflowInput<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  workflow: string,
): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.create({
    type: INVALID_WORKFLOW_INPUT,
    message: `${workflow} input is invalid: ${describeIssues(parsed.error)}`,
    nonRetryable: true,
  });
}

/**
 * A signal handler that only sees payloads matching its schema. Signals cannot be refused, and a
 * throw would fail the workflow: a bad payload is logged (fields named, values not) and dropped.
 */
export function validSignal<S extends z.ZodType>(
  name: string,
  schema: S,
  handler: (payload: z.output<S>) => void,
): (raw: unknown) => void {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) handler(parsed.data);
    else log.warn(`signal ${name} dropped: ${describeIssues(parsed.error)}`);
  };
}
