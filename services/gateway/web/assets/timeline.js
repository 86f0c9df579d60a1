// The results page's shared "current round": the scrubber sets it; the market chart, the entity
// graph and the chat replay follow it. null means the whole run (no round picked).

/**
 * createTimeline(rounds) → {rounds, round, set(round, source), subscribe(fn) → unsubscribe}.
 * `rounds` is the sorted list of rounds the run has; set() ignores a round outside it (except
 * null). Subscribers get (round, source) after every change; `source` names who made it, so a
 * view can ignore its own echo.
 */
export function createTimeline(rounds = []) {
  const known = [...new Set(rounds.map(Number).filter(Number.isFinite))].sort((a, b) => a - b);
  const listeners = new Set();
  let current = null;
  return {
    rounds: known,
    get round() {
      return current;
    },
    set(round, source = null) {
      const next = round === null || round === undefined ? null : Number(round);
      if (next !== null && !known.includes(next)) return;
      if (next === current) return;
      current = next;
      for (const fn of [...listeners]) fn(current, source);
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
