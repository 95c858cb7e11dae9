// What /score and /feedback accept. The bounds keep one request's work and memory small; the
// endpoint's limits (limits.ts) bound how many requests it takes on at once.
import { z } from 'zod';

export const MAX_TEXTS = 256;
export const MAX_TEXT_CHARS = 5000;
export const MAX_FEEDBACK_ITEMS = 1000;
/** Said for a /score text that normalizes to nothing; score.py says the same. */
export const BLANK_TEXT = 'has nothing to score once whitespace and invisible characters (zero-width space, BOM) are removed; leave it out of the request';

const text = z.string().max(MAX_TEXT_CHARS);
const modelName = z.string().min(1).max(63);
export const scoreRequestSchema = z.strictObject({
  model: modelName.optional(),
  texts: z.array(text).min(1).max(MAX_TEXTS),
});
// An analyst often holds the request id of what was served rather than a clean copy of the
// text; monitoring joins it to the logged prediction. A batch request serves several texts
// under one id, so the text may come too, to pick one of them.
const feedbackItemSchema = z
  .strictObject({ text: text.optional(), requestId: z.string().min(1).max(200).optional(), label: z.string().min(1).max(64) })
  .refine((item) => !!item.text?.trim() || item.requestId !== undefined, {
    message: 'names nothing to judge: give "text" (the text that was scored), "requestId" (the requestId its /score answer returned), or both',
  });
export const feedbackRequestSchema = z.strictObject({
  model: modelName,
  items: z.array(feedbackItemSchema).min(1).max(MAX_FEEDBACK_ITEMS),
  /** Who labelled these (a tool, a team); "endpoint" when absent. */
  source: z.string().min(1).max(64).optional(),
});
