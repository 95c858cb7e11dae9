// Realized performance on labelled feedback since the deployment: rows that name a request id
// are judged against what was served; rows with only a text are scored again by the live
// version (only when there are enough rows to judge, so a quiet week loads no model).
import type { FeedbackRecord } from '../adapters/db/port';
import { normalizeText } from '../domain/dataset';
import { joinFeedback } from '../domain/feedback-join';
import { classificationReport } from '../domain/metrics';
import type { FeedbackBasis } from '../domain/monitoring/report';
import type { ActivityDeps } from './deps';
import type { ServedRow } from './monitoring-window';
import { scoreAll } from './scoring-helpers';

/** Accuracy and macro-F1 on labelled feedback since the deployment, joined to what was served or re-scored. */
export async function judgeFeedback(
  { store, loadScorer }: Pick<ActivityDeps, 'store' | 'loadScorer'>,
  input: { labels: string[]; minFeedback: number; runDir: string },
  feedback: (FeedbackRecord & { createdAt: string })[],
  served: ServedRow[],
  onProgress: (n: number) => void,
) {
  const join = joinFeedback(feedback, served);
  const judged = join.joined.length + join.textOnly.length;
  const truth = [...join.joined.map((j) => j.feedback.label), ...join.textOnly.map((f) => f.label)];
  let predicted = join.joined.map((j) => j.served.label);
  if (judged >= input.minFeedback && join.textOnly.length) {
    const scorer = await loadScorer(await store.localFolder(input.runDir));
    try {
      const texts = join.textOnly.map((f) => normalizeText(f.text ?? ''));
      predicted = [...predicted, ...(await scoreAll(scorer, texts, onProgress)).map((p) => p.label)];
    } finally {
      await scorer.close();
    }
  }
  const basis: FeedbackBasis = {
    joinedByRequestId: join.joined.length,
    rescored: join.textOnly.length,
    unmatchedRequestIds: join.unmatched.length,
    ambiguousRequestIds: join.ambiguous.length,
  };
  if (judged < input.minFeedback) return { join, judged, basis, realized: null };
  const accuracy = truth.filter((l, i) => l === predicted[i]).length / judged;
  // A row labelled outside the spec's labels (a typo in a feedback file) counts against
  // accuracy, but has no class to enter macro-F1 under.
  const known = new Set(input.labels);
  const rows = truth.flatMap((l, i) => (known.has(l) && known.has(predicted[i]!) ? [i] : []));
  const report = classificationReport(
    input.labels,
    rows.map((i) => truth[i]!),
    rows.map((i) => predicted[i]!),
  );
  return { join, judged, basis, realized: { accuracy, macroF1: report.macro_f1, rows: judged } };
}
