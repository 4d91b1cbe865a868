import Avatar from '@mui/material/Avatar';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import LinearProgress from '@mui/material/LinearProgress';
import List from '@mui/material/List';
import ListItemAvatar from '@mui/material/ListItemAvatar';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import TextField from '@mui/material/TextField';
import PersonAddAlt1OutlinedIcon from '@mui/icons-material/PersonAddAlt1Outlined';
import { useEffect, useState } from 'react';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { plural } from '../../../lib/format';
import { getPeople } from '../api/people';
import { useLoad } from './usePaged';

/** How many people the picker lists (the name search narrows them down). */
const PICKER_SIZE = 30;
const SEARCH_DELAY_MS = 250;

interface Props {
  faceCount: number;
  /** The person the faces are moving away from (left out of the list). */
  fromId: number;
  busy: boolean;
  onCancel: () => void;
  /** `to` null: a new person. */
  onMove: (to: number | null, toName: string) => void;
}

/** Picks where the selected faces go: someone in the people list (searchable by name) or a new person. */
export function MoveFacesDialog({ faceCount, fromId, busy, onCancel, onMove }: Props) {
  const [query, setQuery] = useState('');
  const [q, setQ] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQ(query.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query]);
  const { data, error, loading } = useLoad(`move-picker:${q}`, (signal) => getPeople(1, PICKER_SIZE, signal, q));
  const people = data?.people.filter((p) => p.id !== fromId) ?? [];

  return (
    <Dialog open onClose={onCancel} maxWidth="xs" fullWidth aria-labelledby="move-title">
      <DialogTitle id="move-title">Move {plural(faceCount, 'face')} to…</DialogTitle>
      <DialogContent sx={{ pb: 0 }}>
        <TextField
          label="Search names"
          size="small"
          fullWidth
          autoFocus
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          sx={{ mt: 1 }}
          slotProps={{ htmlInput: { type: 'search' } }}
        />
        {loading ? <LinearProgress sx={{ mt: 1 }} aria-label="Loading people" /> : <div style={{ height: 4, marginTop: 8 }} />}
        <ErrorAlert error={error} sx={{ mt: 1 }} />
        <List aria-label="Move to" sx={{ maxHeight: 360, overflowY: 'auto' }}>
          <ListItemButton disabled={busy} onClick={() => onMove(null, 'a new person')}>
            <ListItemAvatar>
              <Avatar sx={{ bgcolor: 'primary.main' }}>
                <PersonAddAlt1OutlinedIcon />
              </Avatar>
            </ListItemAvatar>
            <ListItemText primary="A new person" secondary="The faces become someone of their own" />
          </ListItemButton>
          {people.map((p) => {
            const name = p.name || `Person ${p.id}`;
            return (
              <ListItemButton key={p.id} disabled={busy} onClick={() => onMove(p.id, name)}>
                <ListItemAvatar>
                  <Avatar src={p.cover_url ?? undefined} alt="" />
                </ListItemAvatar>
                <ListItemText
                  primary={name}
                  secondary={`${plural(p.face_count, 'face')}${p.hidden ? ' · hidden' : ''}`}
                  sx={{ opacity: p.hidden ? 0.6 : 1 }}
                />
              </ListItemButton>
            );
          })}
          {data && people.length === 0 && <ListItemText sx={{ px: 2, color: 'text.secondary' }} primary="Nobody by that name." />}
        </List>
      </DialogContent>
      <DialogActions>
        <Button color="inherit" onClick={onCancel}>
          Cancel
        </Button>
      </DialogActions>
    </Dialog>
  );
}
