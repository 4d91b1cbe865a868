import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import CssBaseline from '@mui/material/CssBaseline';
import GlobalStyles from '@mui/material/GlobalStyles';
import { ThemeProvider } from '@mui/material/styles';
import { theme } from './theme';
import App from './App';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ThemeProvider theme={theme}>
      <CssBaseline />
      <GlobalStyles
        styles={{
          // lightGallery opens above the sticky app bar (MUI app bar 1100, modals 1300).
          '.lg-container .lg-backdrop': { zIndex: 1400 },
          '.lg-container .lg-outer': { zIndex: 1410 },
        }}
      />
      <App />
    </ThemeProvider>
  </StrictMode>,
);
