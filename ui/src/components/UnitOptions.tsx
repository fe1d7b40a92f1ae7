// The <option>s of a unit picker: "name (CODE)", valued by code. Pages add their own leading
// option ("all", "none") before it.
export function UnitOptions({ units }: { units: ReadonlyArray<{ code: string; name: string }> }) {
  return (
    <>
      {units.map((u) => (
        <option key={u.code} value={u.code}>
          {u.name} ({u.code})
        </option>
      ))}
    </>
  );
}
