// The term and class filters of the lists (bills, receipts): a term, then the classes of that
// term as STORE/NAME (every class when no term is chosen). Empty means "all".
import { useMemo } from "react";

import { useI18n } from "../i18n";
import { useClasses, useTerms } from "../queries";

export function TermClassFilter({
  testIdPrefix,
  term,
  onTerm,
  className,
  onClassName,
}: {
  /** `bill` gives the test ids `bill-term` and `bill-class`. */
  testIdPrefix: string;
  term: string;
  onTerm: (term: string) => void;
  className: string;
  onClassName: (className: string) => void;
}) {
  const { t } = useI18n();
  const terms = useTerms();
  const classes = useClasses();
  const classOptions = useMemo(() => {
    const seen = new Set<string>();
    return (classes.data ?? [])
      .filter((c) => !term || c.term_name === term)
      .map((c) => `${c.unit_code}/${c.name}`)
      .filter((v) => (seen.has(v) ? false : (seen.add(v), true)))
      .sort();
  }, [classes.data, term]);
  return (
    <>
      <label>
        <span>{t("classes.term")}</span>
        <select data-testid={`${testIdPrefix}-term`} value={term} onChange={(e) => onTerm(e.target.value)}>
          <option value="">{t("common.all")}</option>
          {(terms.data ?? []).map((x) => (
            <option key={x.id} value={x.name}>
              {x.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t("members.class")}</span>
        <select data-testid={`${testIdPrefix}-class`} value={className} onChange={(e) => onClassName(e.target.value)}>
          <option value="">{t("common.all")}</option>
          {classOptions.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
