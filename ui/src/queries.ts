// TanStack Query keys and hooks over the typed IPC wrappers. After a change, mutations
// invalidate `keys.all` (everything is local and cheap to re-read).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { appInfo } from "./ipc/app";
import { channelAccountList } from "./ipc/channels";
import { classList, termList } from "./ipc/classes";
import { accountList, feeList, planList } from "./ipc/fees";
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
  accounts: ["feedesk", "accounts"] as const,
  fees: ["feedesk", "fees"] as const,
  plans: ["feedesk", "plans"] as const,
  bills: ["feedesk", "bills"] as const,
  bill: ["feedesk", "bill"] as const,
  money: ["feedesk", "money"] as const,
  channelAccounts: ["feedesk", "channel-accounts"] as const,
  orders: ["feedesk", "orders"] as const,
};

export const useAppInfo = () => useQuery({ queryKey: keys.appInfo, queryFn: appInfo, staleTime: Infinity });
export const useOverview = () => useQuery({ queryKey: keys.overview, queryFn: orgOverview });
export const useTree = () => useQuery({ queryKey: keys.tree, queryFn: orgTree });
export const useTerms = () => useQuery({ queryKey: keys.terms, queryFn: termList });
export const useClasses = () => useQuery({ queryKey: keys.classes, queryFn: () => classList() });
export const useHistory = () => useQuery({ queryKey: keys.history, queryFn: rosterHistory });
export const useAccounts = () => useQuery({ queryKey: keys.accounts, queryFn: accountList });
export const useFees = () => useQuery({ queryKey: keys.fees, queryFn: feeList });
export const useChannelAccounts = () => useQuery({ queryKey: keys.channelAccounts, queryFn: channelAccountList });
export const usePlans = (unit: string) => useQuery({ queryKey: [...keys.plans, unit], queryFn: () => planList(unit) });

/** Re-reads everything after a change. */
export function useRefreshAll(): () => Promise<void> {
  const client = useQueryClient();
  return useCallback(() => client.invalidateQueries({ queryKey: keys.all }), [client]);
}

/** The codes from the root down to `code` (empty when the tree has no such unit). */
export function lineage(node: UnitNode | null | undefined, code: string): string[] {
  if (!node) return [];
  if (node.code === code) return [node.code];
  for (const child of node.children) {
    const below = lineage(child, code);
    if (below.length) return [node.code, ...below];
  }
  return [];
}

/** The unit with this code and everything below it (empty when there is none). */
export function subtree(node: UnitNode | null | undefined, code: string): UnitNode[] {
  const found = findUnit(node, code);
  return found ? flatten(found).map((u) => u.node) : [];
}

/** The unit with this code, or null. */
export function findUnit(node: UnitNode | null | undefined, code: string): UnitNode | null {
  if (!node) return null;
  if (node.code === code) return node;
  for (const child of node.children) {
    const hit = findUnit(child, code);
    if (hit) return hit;
  }
  return null;
}

/** Units of the tree, depth-first, with their depth. */
export function flatten(node: UnitNode | null | undefined, depth = 0, out: { node: UnitNode; depth: number }[] = []) {
  if (!node) return out;
  out.push({ node, depth });
  for (const child of node.children) flatten(child, depth + 1, out);
  return out;
}
