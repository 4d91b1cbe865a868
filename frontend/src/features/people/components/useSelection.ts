import { useState } from 'react';

/**
 * A selection of items with ids: a click toggles one; a shift-click selects every item from the
 * last one clicked to this one (the way file managers do).
 */
export function useSelection<T extends { id: number }>() {
  const [selected, setSelected] = useState<ReadonlyMap<number, T>>(new Map());
  const [anchor, setAnchor] = useState<number | null>(null);

  const click = (items: readonly T[], index: number, shift: boolean) => {
    const item = items[index];
    if (!item) return;
    const anchorIndex = anchor === null ? -1 : items.findIndex((x) => x.id === anchor);
    const next = new Map(selected);
    if (shift && anchorIndex >= 0) {
      const [from, to] = anchorIndex < index ? [anchorIndex, index] : [index, anchorIndex];
      for (const x of items.slice(from, to + 1)) next.set(x.id, x);
    } else if (next.has(item.id)) {
      next.delete(item.id);
    } else {
      next.set(item.id, item);
    }
    setSelected(next);
    setAnchor(item.id);
  };

  const clear = () => {
    setSelected(new Map());
    setAnchor(null);
  };

  return { selected, click, clear, ids: [...selected.keys()], items: [...selected.values()] };
}
