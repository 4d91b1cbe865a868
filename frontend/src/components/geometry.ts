import type { Box } from '../types/api';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A box in image pixels as percentages of the image (for absolutely placed overlays). */
export function boxToPercent(box: Box, imageWidth: number, imageHeight: number): Rect | null {
  if (!imageWidth || !imageHeight || !box || box.length !== 4) return null;
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max, v));
  const x1 = clamp(Math.min(box[0], box[2]), imageWidth);
  const x2 = clamp(Math.max(box[0], box[2]), imageWidth);
  const y1 = clamp(Math.min(box[1], box[3]), imageHeight);
  const y2 = clamp(Math.max(box[1], box[3]), imageHeight);
  if (x2 <= x1 || y2 <= y1) return null;
  return {
    left: (x1 / imageWidth) * 100,
    top: (y1 / imageHeight) * 100,
    width: ((x2 - x1) / imageWidth) * 100,
    height: ((y2 - y1) / imageHeight) * 100,
  };
}

/**
 * Where an image of the given size sits, "contained" and centred, inside a frame of aspect
 * ratio `frameAspect` (width / height), as percentages of the frame.
 */
export function containRect(imageWidth: number, imageHeight: number, frameAspect: number): Rect {
  if (!imageWidth || !imageHeight) return { left: 0, top: 0, width: 100, height: 100 };
  const r = imageWidth / imageHeight;
  if (r >= frameAspect) {
    const height = (frameAspect / r) * 100;
    return { left: 0, top: (100 - height) / 2, width: 100, height };
  }
  const width = (r / frameAspect) * 100;
  return { left: (100 - width) / 2, top: 0, width, height: 100 };
}

export const pct = (v: number) => `${v.toFixed(3)}%`;
