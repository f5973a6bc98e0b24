// How full a run kept the server. Two clocks, two figures, because they answer different questions:
// - held: Σ client E2EL / (wall × requests allowed in flight). The client's part: 1.0 means a request was
//   always waiting on every place the load profile allowed (a reply's end to the next send is the gap).
// - engine busy: Σ (prompt_ms + predicted_ms) / (wall × slots in use), from the engine's own per-request
//   timings (llama.cpp). What is missing from 1.0 beyond the client's gap is time a request spends inside
//   the server outside its slot's timings (HTTP threads, tokenising, waiting for another slot's batch).
// The wall is the measured requests' own span (first send to last reply), not the process's lifetime.

export interface TimedRequest {
  startedAtEpochMs: number;
  e2eMs: number;
  /** prompt_ms + predicted_ms as the engine reported them, when it did. */
  engineMs: number | null;
}

export interface Occupancy {
  requests: number;
  wallMs: number;
  /** Requests the load profile allowed in flight (the concurrency; 1 for sequential). */
  inFlight: number;
  held: number;
  /** Slots the engine could use for this run: min(server slots, in flight); null without slot timings. */
  slotsInUse: number | null;
  /** The server's slots, when it says (llama-server /props total_slots). */
  serverSlots: number | null;
  engineBusy: number | null;
}

/**
 * The running totals occupancy() reads, one request at a time in journal order (a run keeps them as it
 * goes: run/summary-tally.ts); the same sums in the same order, so the same figures to the bit.
 */
export class OccupancyTally {
  requests = 0;
  private first = Infinity;
  private last = -Infinity;
  private e2e = 0;
  private engine = 0;
  private withEngine = 0;

  add(r: TimedRequest): void {
    this.requests++;
    this.first = Math.min(this.first, r.startedAtEpochMs);
    this.last = Math.max(this.last, r.startedAtEpochMs + r.e2eMs);
    this.e2e += r.e2eMs;
    if (r.engineMs !== null && Number.isFinite(r.engineMs)) { this.engine += r.engineMs; this.withEngine++; }
  }

  result(inFlight: number, serverSlots: number | null): Occupancy | null {
    if (this.requests === 0 || !(inFlight >= 1)) return null;
    const wallMs = this.last - this.first;
    if (!(wallMs > 0)) return null;
    // Engine busy needs every request's slot time: a partial sum would understate it.
    const slotsInUse = this.withEngine === this.requests ? Math.min(serverSlots ?? inFlight, inFlight) : null;
    return {
      requests: this.requests,
      wallMs,
      inFlight,
      held: this.e2e / (wallMs * inFlight),
      slotsInUse,
      serverSlots,
      engineBusy: slotsInUse !== null ? this.engine / (wallMs * slotsInUse) : null,
    };
  }
}

export function occupancy(requests: readonly TimedRequest[], inFlight: number, serverSlots: number | null): Occupancy | null {
  if (requests.length === 0 || !(inFlight >= 1)) return null;
  const tally = new OccupancyTally();
  for (const r of requests) tally.add(r);
  return tally.result(inFlight, serverSlots);
}
