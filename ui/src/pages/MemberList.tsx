// Members, virtualised: TanStack Virtual renders only the visible rows and member_page is
// asked for the pages (of PAGE members) those rows fall in, so 100k members scroll smoothly.
import { memo, useMemo, useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useDebounced } from "../hooks";
import { usePagedList } from "../pagedList";
import { useI18n } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import { memberPage, type Member, type MemberQuery } from "../ipc/members";
import { flatten, keys, useClasses, useTree } from "../queries";
import { UnitOptions } from "../components/UnitOptions";

const PAGE = 200;
const ROW_HEIGHT = 36;

export function MemberList() {
  const { t, lang } = useI18n();
  const tree = useTree();
  const classes = useClasses();
  const [search, setSearch] = useState("");
  const [unit, setUnit] = useState("");
  const [className, setClassName] = useState("");
  const [status, setStatus] = useState("");
  const debouncedSearch = useDebounced(search, 250);
  const filter: MemberQuery = useMemo(
    () => ({ search: debouncedSearch || null, unit_code: unit || null, class_name: className || null, status: status || null }),
    [debouncedSearch, unit, className, status],
  );
  const classNames = useMemo(() => [...new Set((classes.data ?? []).map((c) => c.name))].sort(), [classes.data]);

  const { scrollRef, virtualizer, items, firstPage, rowAt, error } = usePagedList({
    queryKey: [...keys.members, filter],
    fetchPage: (offset, limit) => memberPage(filter, offset, limit),
    rowsOf: (page) => page.members,
    pageSize: PAGE,
    rowHeight: ROW_HEIGHT,
    resetOn: filter,
  });
  const statusText = useMemo(() => ({ active: t("status.active"), withdrawn: t("status.withdrawn") }) as Record<string, string>, [t]);
  const numbers = useMemo(() => new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en"), [lang]);
  const units = useMemo(() => flatten(tree.data).map((u) => u.node), [tree.data]);

  return (
    <section className="card members-card">
      <div className="row-form filters">
        <input
          type="search"
          className="grow"
          data-testid="member-search"
          placeholder={t("members.search")}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <label>
          <span>{t("members.unit")}</span>
          <select data-testid="member-unit" value={unit} onChange={(e) => setUnit(e.target.value)}>
            <option value="">{t("common.all")}</option>
            <UnitOptions units={units} />
          </select>
        </label>
        <label>
          <span>{t("members.class")}</span>
          <select data-testid="member-class" value={className} onChange={(e) => setClassName(e.target.value)}>
            <option value="">{t("common.all")}</option>
            {classNames.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t("members.status")}</span>
          <select data-testid="member-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t("common.all")}</option>
            <option value="active">{t("status.active")}</option>
            <option value="withdrawn">{t("status.withdrawn")}</option>
          </select>
        </label>
        <span className="muted" data-testid="member-total" data-total={firstPage?.total ?? ""}>
          {firstPage ? t("members.total", { n: numbers.format(firstPage.total) }) : t("common.loading")}
        </span>
      </div>
      <ErrorNote error={error && asIpcError(error)} testId="member-error" />
      <div className="member-grid member-head" role="row">
        <span>{t("members.no")}</span>
        <span>{t("members.name")}</span>
        <span>{t("members.store")}</span>
        <span>{t("members.classes")}</span>
        <span>{t("members.guardian")}</span>
        <span>{t("members.phone")}</span>
        <span>{t("members.idNumber")}</span>
        <span>{t("members.status")}</span>
      </div>
      <div className="member-scroll" ref={scrollRef} data-testid="member-list">
        {firstPage && firstPage.total === 0 && <p className="muted empty">{t("members.empty")}</p>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => (
            <MemberRow
              key={item.key}
              index={item.index}
              start={item.start}
              member={rowAt(item.index)}
              statusText={statusText}
            />
          ))}
        </div>
      </div>
    </section>
  );
}

/** One row; memoised so scrolling re-renders only the rows that enter the window. */
const MemberRow = memo(function MemberRow({
  index,
  start,
  member,
  statusText,
}: {
  index: number;
  start: number;
  member: Member | undefined;
  statusText: Record<string, string>;
}) {
  return (
    <div
      className={index % 2 ? "member-grid member-row odd" : "member-grid member-row"}
      data-testid={member ? "member-row" : "member-row-loading"}
      style={{ height: ROW_HEIGHT, transform: `translateY(${start}px)` }}
    >
      {member ? (
        <>
          <span>{member.member_no}</span>
          <span data-testid="member-name">{member.name}</span>
          <span>{member.unit}</span>
          <span className="ellipsis">{member.classes.join("、")}</span>
          <span>{member.guardian_name ?? ""}</span>
          <span className="mono">{member.guardian_phone ?? ""}</span>
          <span className="mono">{member.id_number ?? ""}</span>
          <span>{statusText[member.status] ?? member.status}</span>
        </>
      ) : (
        <span className="muted">…</span>
      )}
    </div>
  );
});
