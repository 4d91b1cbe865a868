import { getContrastRatio } from '@mui/material/styles';
import { describe, expect, it } from 'vitest';
import { theme } from './theme';

// WCAG AA for normal text; axe's color-contrast rule fails the e2e scripts below it.
const AA = 4.5;

describe('theme colours', () => {
  it.each(['primary', 'secondary', 'success', 'warning', 'error', 'info'] as const)(
    '%s: its text on the page and white text on it reach 4.5:1',
    (name) => {
      const { main, contrastText } = theme.palette[name];
      expect(getContrastRatio(main, theme.palette.background.paper)).toBeGreaterThanOrEqual(AA);
      expect(getContrastRatio(main, theme.palette.background.default)).toBeGreaterThanOrEqual(AA);
      expect(getContrastRatio(contrastText, main)).toBeGreaterThanOrEqual(AA);
    },
  );

  it('secondary text reaches 4.5:1 on the page', () => {
    expect(getContrastRatio(theme.palette.text.secondary, theme.palette.background.default)).toBeGreaterThanOrEqual(AA);
  });
});
