import IconButton from '@mui/material/IconButton';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Tooltip from '@mui/material/Tooltip';
import Typography, { type TypographyProps } from '@mui/material/Typography';
import EditOutlinedIcon from '@mui/icons-material/EditOutlined';
import { useState } from 'react';

interface Props {
  /** The current name (null: unnamed). */
  name: string | null;
  /** Shown while there is no name, e.g. "Person 12". */
  fallback: string;
  /** Resolves true when saved. */
  onSave: (name: string | null) => Promise<boolean>;
  variant?: TypographyProps['variant'];
  component?: React.ElementType;
  /** A page heading: large, and long names wrap instead of being cut short. */
  heading?: boolean;
}

/** A person's name, renamed in place: the pencil opens a field; Enter saves, Escape cancels. */
export function InlineName({ name, fallback, onSave, variant = 'subtitle2', component = 'h3', heading = false }: Props) {
  const [draft, setDraft] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const save = async () => {
    if (draft === null) return;
    const next = draft.trim() || null;
    if (next === (name?.trim() || null)) {
      setDraft(null);
      return;
    }
    setSaving(true);
    const ok = await onSave(next);
    setSaving(false);
    if (ok) setDraft(null);
  };

  if (draft !== null) {
    return (
      <TextField
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            setDraft(null);
          }
        }}
        onBlur={() => {
          if (!saving) setDraft(null);
        }}
        disabled={saving}
        autoFocus
        size="small"
        fullWidth
        placeholder="Name"
        helperText="Enter saves, Escape cancels"
        slotProps={{ htmlInput: { 'aria-label': `Name of ${fallback}`, maxLength: 100 } }}
      />
    );
  }
  return (
    <Stack direction="row" sx={{ alignItems: 'center', gap: 0.25, minWidth: 0 }}>
      <Typography
        variant={variant}
        component={component}
        sx={
          heading
            ? { fontWeight: 700, fontSize: { xs: '1.5rem', sm: '2rem' }, overflowWrap: 'anywhere' }
            : { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }
        }
        title={name ?? fallback}
      >
        {name || fallback}
      </Typography>
      <Tooltip title="Rename">
        <IconButton size="small" aria-label={`Rename ${name || fallback}`} onClick={() => setDraft(name ?? '')}>
          <EditOutlinedIcon fontSize="inherit" />
        </IconButton>
      </Tooltip>
    </Stack>
  );
}
