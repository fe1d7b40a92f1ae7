// TanStack Query keys and hooks over the typed IPC wrappers. After a change, mutations
// invalidate `keys.all` (everything is local and cheap to re-read).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { appInfo } from "./ipc/app";
import { classList, termList } from "./ipc/classes";
import { orgOverview, orgTree, type UnitNode } from "./ipc/org";
import { rosterHistory } from "./ipc/roster";

export const keys = {
  all: ["feedesk"] as const,
  appInfo: ["feedesk", "app-info"] as const,
  overview: ["feedesk", "overview"] as const,
  tree: ["feedesk", "tree"] as const,
  terms: ["feedesk", "terms"] as const,
  classes: ["feedesk", "classes"] as const,
  history: ["feedesk", "history"] as const,
  members: ["feedesk", "members"] as const,
};

export const useAppInfo = () => useQuery({ queryKey: keys.appInfo, queryFn: appInfo, staleTime: Infinity });
export const useOverview = () => useQuery({ queryKey: keys.overview, queryFn: orgOverview });
export const useTree = () => useQuery({ queryKey: keys.tree, queryFn: orgTree });
export const useTerms = () => useQuery({ queryKey: keys.terms, queryFn: termList });
export const useClasses = () => useQuery({ queryKey: keys.classes, queryFn: () => classList() });
export const useHistory = () => useQuery({ queryKey: keys.history, queryFn: rosterHistory });

/** Re-reads everything after a change. */
export function useRefreshAll(): () => Promise<void> {
  const client = useQueryClient();
  return useCallback(() => client.invalidateQueries({ queryKey: keys.all }), [client]);
}

/** Units of the tree, depth-first, with their depth. */
export function flatten(node: UnitNode | null | undefined, depth = 0, out: { node: UnitNode; depth: number }[] = []) {
  if (!node) return out;
  out.push({ node, depth });
  for (const child of node.children) flatten(child, depth + 1, out);
  return out;
}
