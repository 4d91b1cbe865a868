import { createTheme } from '@mui/material/styles';

export const theme = createTheme({
  palette: {
    mode: 'light',
    primary: { main: '#4338ca', light: '#6366f1', dark: '#3730a3', contrastText: '#fff' },
    // Text in these colours (outlined chips and buttons) and white text on them (filled chips)
    // reach 4.5:1 on white (WCAG AA, checked by axe in the e2e scripts): amber-700, not amber-600
    // (3.2:1).
    secondary: { main: '#0e7490', contrastText: '#fff' },
    success: { main: '#15803d', light: '#4ade80', contrastText: '#fff' },
    warning: { main: '#b45309', contrastText: '#fff' },
    info: { main: '#0369a1', contrastText: '#fff' },
    background: { default: '#f5f6fb', paper: '#ffffff' },
    text: { primary: '#111827', secondary: '#4b5563' },
  },
  shape: { borderRadius: 10 },
  typography: {
    fontFamily:
      '"Inter", system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
    button: { textTransform: 'none', fontWeight: 600 },
    h4: { fontWeight: 700 },
    h5: { fontWeight: 700 },
    h6: { fontWeight: 600 },
  },
  components: {
    MuiButton: { defaultProps: { disableElevation: true } },
    MuiCard: { styleOverrides: { root: { borderRadius: 12 } } },
    MuiPaper: { styleOverrides: { outlined: { borderRadius: 12 } } },
    MuiAlert: { styleOverrides: { root: { borderRadius: 12 } } },
    MuiTab: { styleOverrides: { root: { textTransform: 'none', fontWeight: 600, minHeight: 56 } } },
  },
});
