// A figure tile: a big value and its label. `raw` (e.g. the exact decimal string of an amount)
// goes to data-value, for tests and copying.
export function Figure({ testId, label, value, raw, sub }: { testId: string; label: string; value: string; raw?: string; sub?: string }) {
  return (
    <div className="tile" data-testid={testId} data-value={raw ?? value}>
      <div className="tile-value">{value}</div>
      <div className="tile-label">{label}</div>
      {sub && <div className="tile-sub">{sub}</div>}
    </div>
  );
}
