import { useEffect, useMemo, useReducer, useState } from "react";
import { api } from "../api";
import { initialUploads, selectBatches, uploadsReducer } from "./reducer";

/** The live upload queue: subscribes once, folds every channel message into the reducer. */
export function useUploads() {
  const [state, dispatch] = useReducer(uploadsReducer, initialUploads);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => api.subscribeUploads(dispatch, setError), []);

  const batches = useMemo(() => selectBatches(state), [state]);
  return { batches, loaded: state.loaded, count: state.order.length, error };
}
