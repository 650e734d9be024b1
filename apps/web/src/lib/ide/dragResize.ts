/**
 * Follows a pointer drag that resizes a panel: `onSize` gets `startSize` plus the distance moved
 * along the axis (`sign` -1 when dragging towards the origin grows the panel, e.g. a bottom panel's
 * top edge), until the pointer is released.
 */
export function dragResize(e: React.PointerEvent, axis: 'x' | 'y', startSize: number, onSize: (size: number) => void, sign: 1 | -1 = 1): void {
  e.preventDefault();
  const start = axis === 'x' ? e.clientX : e.clientY;
  const move = (ev: PointerEvent) => onSize(startSize + sign * ((axis === 'x' ? ev.clientX : ev.clientY) - start));
  const up = () => {
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', up);
  };
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', up);
}
