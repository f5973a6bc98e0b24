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

export function occupancy(requests: readonly TimedRequest[], inFlight: number, serverSlots: number | null): Occupancy | null {
  if (requests.length === 0 || !(inFlight >= 1)) return null;
  let first = Infinity, last = -Infinity, e2e = 0, engine = 0, withEngine = 0;
  for (const r of requests) {
    first = Math.min(first, r.startedAtEpochMs);
    last = Math.max(last, r.startedAtEpochMs + r.e2eMs);
    e2e += r.e2eMs;
    if (r.engineMs !== null && Number.isFinite(r.engineMs)) { engine += r.engineMs; withEngine++; }
  }
  const wallMs = last - first;
  if (!(wallMs > 0)) return null;
  // Engine busy needs every request's slot time: a partial sum would understate it.
  const slotsInUse = withEngine === requests.length ? Math.min(serverSlots ?? inFlight, inFlight) : null;
  return {
    requests: requests.length,
    wallMs,
    inFlight,
    held: e2e / (wallMs * inFlight),
    slotsInUse,
    serverSlots,
    engineBusy: slotsInUse !== null ? engine / (wallMs * slotsInUse) : null,
  };
}
