import { useCallback, useEffect, useState } from "react";
import { api, on } from "./api";

/** The unread count for the badge: fetched once, then pushed with every inbox change. */
export function useUnreadCount() {
  const [unread, setUnread] = useState<number | null>(null);
  const refetch = useCallback(() => {
    api.inboxUnreadCount().then(setUnread, () => {
      // The badge keeps its last value; the inbox shows the error.
    });
  }, []);
  useEffect(() => {
    refetch();
    return on.inboxChanged(({ unread }) => setUnread(unread));
  }, [refetch]);
  return { unread, refetch };
}
