import Alert, { type AlertProps } from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import type { ReactNode } from 'react';
import type { ApiError } from '../lib/api-client';

interface Props {
  error: Pick<ApiError, 'message' | 'hint'> | null | undefined;
  onClose?: () => void;
  severity?: AlertProps['severity'];
  action?: ReactNode;
  sx?: AlertProps['sx'];
}

/** A readable error: what went wrong (title) and what to do about it (body). */
export function ErrorAlert({ error, onClose, severity = 'error', action, sx }: Props) {
  if (!error) return null;
  return (
    <Alert severity={severity} onClose={onClose} action={action} sx={sx} role="alert">
      <AlertTitle sx={{ mb: error.hint ? 0.5 : 0 }}>{error.message}</AlertTitle>
      {error.hint}
    </Alert>
  );
}
