// Feedback rows that name a request id are judged against what was actually served: the
// logged prediction with that id. Pure, so monitoring and the retraining export agree on
// which row matched which prediction.
import { normalizeText } from './dataset';

export interface FeedbackRow {
  text?: string;
  requestId?: string;
  label: string;
}

export interface ServedPrediction {
  requestId: string;
  text: string;
  label: string;
}

export interface FeedbackJoin<F, P> {
  /** Rows with a request id, each with the one prediction it names. */
  joined: { feedback: F; served: P }[];
  /** Rows with only a text: nothing served to compare with, so the caller re-scores them. */
  textOnly: F[];
  /** Rows whose request id no given prediction has. */
  unmatched: F[];
  /** Rows whose request id served several different texts and whose own text picks none. */
  ambiguous: F[];
}

/**
 * Joins feedback to served predictions by request id. A batch request serves several texts
 * under one id, so a row's text (normalized as serving does) picks among them; with one
 * candidate the id alone decides, since an analyst's copy of the text may not be clean.
 */
export function joinFeedback<F extends FeedbackRow, P extends ServedPrediction>(feedback: readonly F[], served: readonly P[]): FeedbackJoin<F, P> {
  const byId = new Map<string, P[]>();
  for (const p of served) byId.set(p.requestId, [...(byId.get(p.requestId) ?? []), p]);
  const out: FeedbackJoin<F, P> = { joined: [], textOnly: [], unmatched: [], ambiguous: [] };
  for (const f of feedback) {
    if (!f.requestId) {
      out.textOnly.push(f);
      continue;
    }
    const candidates = byId.get(f.requestId) ?? [];
    if (candidates.length === 0) {
      out.unmatched.push(f);
      continue;
    }
    const wanted = f.text === undefined ? undefined : normalizeText(f.text);
    const sameText = wanted === undefined ? [] : candidates.filter((p) => normalizeText(p.text) === wanted);
    const pick = sameText.length ? sameText : candidates;
    // Repeated log lines of one text (a retried request) are one prediction, not a choice.
    if (new Set(pick.map((p) => normalizeText(p.text))).size === 1) out.joined.push({ feedback: f, served: pick[0]! });
    else out.ambiguous.push(f);
  }
  return out;
}

/** Why some feedback rows were left out of accuracy, one sentence per cause, naming ids. */
export function unjoinedReasons(
  join: Pick<FeedbackJoin<FeedbackRow, unknown>, 'unmatched' | 'ambiguous'>,
  served: { version: number; since: string },
): string[] {
  const ids = (rows: FeedbackRow[]) => {
    const unique = [...new Set(rows.map((r) => r.requestId!))];
    return unique.slice(0, 5).join(', ') + (unique.length > 5 ? `, … (${unique.length} ids)` : '');
  };
  const reasons: string[] = [];
  if (join.unmatched.length) {
    reasons.push(
      `${join.unmatched.length} feedback rows name request ids not served by version ${served.version} since ${served.since}: ${ids(join.unmatched)}; ` +
        'left out of accuracy (served by an earlier version, by another model, or mistyped)',
    );
  }
  if (join.ambiguous.length) {
    reasons.push(
      `${join.ambiguous.length} feedback rows name batch requests that served several texts: ${ids(join.ambiguous)}; ` +
        'left out of accuracy: send each row with the text it labels as well as its requestId',
    );
  }
  return reasons;
}
