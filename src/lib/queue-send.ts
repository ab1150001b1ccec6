/**
 * Sending to a Queue from a request's side, where nothing else will retry: messages go in
 * batches of 100 (the Queues limit), each batch tried a few times with a doubling pause.
 */

/** Attempts per batch before it is given up. */
export const SEND_ATTEMPTS = 3;
/** The pause before the second attempt; it doubles for each one after. */
export const SEND_RETRY_BASE_MS = 250;

/** Sends one batch (at most 100 messages); throws when the Queue did not take it. */
export type SendBatch<T> = (batch: T[]) => Promise<void>;

/**
 * Sends `items` in batches of 100, each tried up to `attempts` times (pauses of 250 ms, 500 ms:
 * well inside `waitUntil`'s time after the response). Returns the items of the batches that
 * failed every attempt; never throws.
 */
export async function sendWithRetry<T>(
  send: SendBatch<T>,
  items: T[],
  { attempts = SEND_ATTEMPTS, baseDelayMs = SEND_RETRY_BASE_MS, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = {},
): Promise<{ lost: T[]; errors: string[] }> {
  const lost: T[] = [];
  const errors: string[] = [];
  for (let i = 0; i < items.length; i += 100) {
    const batch = items.slice(i, i + 100);
    for (let attempt = 1; ; attempt++) {
      try {
        await send(batch);
        break;
      } catch (error) {
        if (attempt >= attempts) {
          lost.push(...batch);
          errors.push(String(error));
          break;
        }
        await sleep(baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }
  return { lost, errors };
}

/** A Queue's `sendBatch` as a SendBatch of JSON bodies. */
export function jsonBatchesTo<T>(queue: Queue<T>): SendBatch<T> {
  return async (batch) => {
    await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
  };
}
