// Long work done in slices, so that one request's work never holds the event loop: between slices every other
// request, health check and timer gets its turn.

/** The longest a slice runs before it gives the event loop back. */
export const SLICE_MS = 5;

export class Slices {
  private started = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** Gives the event loop back (setImmediate: after pending I/O) once this slice has run its time; at once otherwise. */
  async breathe(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}
