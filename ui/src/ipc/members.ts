// Typed wrapper for src-tauri/src/commands/members.rs. Personal data always comes masked.
import type { Member } from "./bindings/Member";
import type { MemberPage } from "./bindings/MemberPage";
import type { MemberQuery } from "./bindings/MemberQuery";
import { call } from "./invoke";

export type { Member, MemberPage, MemberQuery };

export const memberPage = (filter: MemberQuery, offset: number, limit: number) =>
  call<MemberPage>("member_page", { filter, offset, limit });
