import Avatar from '@mui/material/Avatar';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import type { Person } from '../../../types/api';
import { plural } from '../../../lib/format';

interface Props {
  people: Person[];
  busy: boolean;
  onCancel: () => void;
  onMerge: (into: Person, others: Person[]) => void;
}

const byFaces = (a: Person, b: Person) => b.face_count - a.face_count;

/** Merge the selected people: the organiser picks which one they all become (most faces first). */
export function MergeDialog({ people, busy, onCancel, onMerge }: Props) {
  const sorted = [...people].sort(byFaces);
  // The named one with the most faces is the likely keeper; else the one with the most faces.
  const [into, setInto] = useState<number>(() => (sorted.find((p) => p.name) ?? sorted[0]).id);
  const target = sorted.find((p) => p.id === into) ?? sorted[0];

  return (
    <Dialog open onClose={onCancel} maxWidth="xs" fullWidth aria-labelledby="merge-title">
      <DialogTitle id="merge-title">Merge {plural(people.length, 'person', 'people')}</DialogTitle>
      <DialogContent>
        <DialogContentText sx={{ mb: 1.5 }}>
          Their faces become one person. Which one should they become? It keeps its name and whether it is hidden.
        </DialogContentText>
        <RadioGroup value={String(into)} onChange={(e) => setInto(Number(e.target.value))} aria-label="Merge into">
          {sorted.map((p) => (
            <FormControlLabel
              key={p.id}
              value={String(p.id)}
              control={<Radio />}
              label={
                <Stack direction="row" spacing={1.25} sx={{ alignItems: 'center', py: 0.5 }}>
                  <Avatar src={p.cover_url ?? undefined} alt="" sx={{ width: 40, height: 40 }} />
                  <span>
                    <Typography component="span" variant="body1" sx={{ display: 'block', fontWeight: 600 }}>
                      {p.name || `Person ${p.id}`}
                    </Typography>
                    <Typography component="span" variant="body2" color="text.secondary">
                      {plural(p.face_count, 'face')}
                      {p.hidden ? ' · hidden' : ''}
                    </Typography>
                  </span>
                </Stack>
              }
            />
          ))}
        </RadioGroup>
      </DialogContent>
      <DialogActions>
        <Button color="inherit" onClick={onCancel}>
          Cancel
        </Button>
        <Button
          variant="contained"
          disabled={busy}
          onClick={() =>
            onMerge(
              target,
              people.filter((p) => p.id !== target.id),
            )
          }
        >
          Merge into {target.name || `Person ${target.id}`}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
