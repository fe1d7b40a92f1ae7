// Money in the window: the core sends decimal strings ("1234.50", "-0.01") and the window shows
// them, formatted by string manipulation. The little arithmetic the window does (a default
// refund amount, a bar's length) runs on integer fen as BigInt, never on floating-point numbers.

const AMOUNT = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/** Integer fen of a decimal string; null when it is not an amount. */
export function toFen(text: string): bigint | null {
  const m = AMOUNT.exec(text.trim());
  if (!m) return null;
  const fen = BigInt(m[2]) * 100n + BigInt((m[3] ?? "").padEnd(2, "0"));
  return m[1] ? -fen : fen;
}

/** The decimal string of integer fen: 3334n -> "33.34". */
export function fromFen(fen: bigint): string {
  const sign = fen < 0n ? "-" : "";
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

/** `a - b` of two decimal strings, exact. */
export function minus(a: string, b: string): string {
  return fromFen((toFen(a) ?? 0n) - (toFen(b) ?? 0n));
}

/** "1234567.5" -> "¥1,234,567.50" (without the symbol when `symbol` is false). */
export function formatMoney(text: string, symbol = true): string {
  const fen = toFen(text);
  if (fen === null) return text;
  const plain = fromFen(fen);
  const negative = plain.startsWith("-");
  const [whole, cents] = (negative ? plain.slice(1) : plain).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${symbol ? "¥" : ""}${grouped}.${cents}`;
}

/** A fraction with up to four places ("0.5263", "1") as a percentage: "52.63%". */
export function formatRate(text: string): string {
  const m = /^(\d+)(?:\.(\d{1,4}))?$/.exec(text.trim());
  if (!m) return text;
  // In ten-thousandths, which are hundredths of a percent.
  const bp = BigInt(m[1]) * 10000n + BigInt((m[2] ?? "").padEnd(4, "0"));
  return `${bp / 100n}.${String(bp % 100n).padStart(2, "0")}%`;
}

/** `part / whole` as a whole percentage 0-100 for a bar's length (display only). */
export function share(part: string, whole: string): number {
  const p = toFen(part) ?? 0n;
  const w = toFen(whole) ?? 0n;
  if (w <= 0n || p <= 0n) return 0;
  const pct = (p * 100n) / w;
  return Number(pct > 100n ? 100n : pct);
}

/** The largest of some decimal strings ("0.00" for none). */
export function maxAmount(amounts: string[]): string {
  let best = 0n;
  for (const a of amounts) {
    const fen = toFen(a) ?? 0n;
    if (fen > best) best = fen;
  }
  return fromFen(best);
}

/** An early-bird rule ("tiers:2026-08-31=2800,3000") as its steps: [{ price, day }, ...,
 * { price }] (day as "8/31"); null for any other rule. The bill shows it as "¥2,800 until 8/31,
 * then ¥3,000": the price is that of the day the bill is paid. */
export function tierSteps(rule: string): { price: string; day?: string }[] | null {
  const m = /^tiers:(.+)$/.exec(rule.trim());
  if (!m) return null;
  const parts = m[1].split(",");
  const steps: { price: string; day?: string }[] = [];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const dated = /^(\d{4})-(\d{2})-(\d{2})=(.+)$/.exec(part.trim());
    if (last !== !dated) return null;
    const amount = dated ? dated[4] : part.trim();
    const shown = formatMoney(amount).replace(/\.00$/, "");
    steps.push(dated ? { price: shown, day: `${Number(dated[2])}/${Number(dated[3])}` } : { price: shown });
  }
  return steps;
}
