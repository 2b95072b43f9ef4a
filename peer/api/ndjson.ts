/**
 * A streamed answer of NDJSON lines, one per item of an async iterable, as
 * the reader takes them (nothing is read ahead of the HTTP response): what
 * the live routes answer (a run's log, an agent's transcript). A source
 * that fails midway says why in its last line, `failed(error)`, and the
 * answer ends; a reader that leaves ends the source.
 */
import { utf8 } from "#protocol";

export function ndjsonResponse<T>(items: AsyncIterable<T>, failed: (error: Error) => unknown): Response {
  const it = items[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(utf8(JSON.stringify(next.value) + "\n"));
      } catch (e) {
        controller.enqueue(utf8(JSON.stringify(failed(e as Error)) + "\n"));
        controller.close();
      }
    },
    cancel() {
      void it.return?.(undefined);
    },
  });
  return new Response(body, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
}
