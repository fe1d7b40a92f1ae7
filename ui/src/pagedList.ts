// A long list read a page at a time: the virtualizer shows the visible rows, and only the pages
// under them are fetched (TanStack Query caches them). The members and bills lists both use it.
import { keepPreviousData, useQueries } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";

export function usePagedList<P extends { total: number }, Row>(options: {
  /** The query key of this list under its filter; the page number is appended. */
  queryKey: readonly unknown[];
  /** Reads rows `offset .. offset + limit`. */
  fetchPage: (offset: number, limit: number) => Promise<P>;
  rowsOf: (page: P) => Row[];
  pageSize: number;
  rowHeight: number;
  /** Changes when the filter does: the list scrolls back to the top. */
  resetOn: unknown;
}) {
  const { queryKey, fetchPage, rowsOf, pageSize, rowHeight, resetOn } = options;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [total, setTotal] = useState(0);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    // Let React batch the re-render a scroll causes instead of flushing it synchronously.
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  const first = items.length ? Math.floor(items[0].index / pageSize) : 0;
  const last = items.length ? Math.floor(items[items.length - 1].index / pageSize) : 0;
  const pageIndexes: number[] = [];
  for (let p = first; p <= last; p++) pageIndexes.push(p);
  const pages = useQueries({
    queries: pageIndexes.map((p) => ({
      queryKey: [...queryKey, p],
      queryFn: () => fetchPage(p * pageSize, pageSize),
      staleTime: 30_000,
      placeholderData: p === 0 ? keepPreviousData : undefined,
    })),
  });
  const firstPage = pages[0]?.data;
  useEffect(() => {
    if (firstPage) setTotal(firstPage.total);
  }, [firstPage]);
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [resetOn]);
  const pageRows = new Map<number, Row[]>();
  pages.forEach((q, i) => q.data && pageRows.set(pageIndexes[i], rowsOf(q.data)));
  return {
    scrollRef,
    virtualizer,
    items,
    firstPage,
    /** The row at `index`, once its page has arrived. */
    rowAt: (index: number) => pageRows.get(Math.floor(index / pageSize))?.[index % pageSize],
    error: pages.find((q) => q.error)?.error,
  };
}
