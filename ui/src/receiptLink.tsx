// Opening the Receipts page on a bill's or a payment's receipts from another page (the bill
// drawer): the frame provides the opener, pages call it.
import { createContext, useContext } from "react";

/** What to show on the Receipts page. */
export type ReceiptFocus = { billId?: number; paymentId?: number; label: string };

const OpenReceipts = createContext<(focus: ReceiptFocus) => void>(() => undefined);

export const ReceiptLinkProvider = OpenReceipts.Provider;

/** Switches to the Receipts page showing `focus`. */
export const useOpenReceipts = () => useContext(OpenReceipts);
