import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import LinearProgress from '@mui/material/LinearProgress';
import Pagination from '@mui/material/Pagination';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import ArrowBackIcon from '@mui/icons-material/ArrowBack';
import BlockIcon from '@mui/icons-material/Block';
import DriveFileMoveOutlinedIcon from '@mui/icons-material/DriveFileMoveOutlined';
import VisibilityOffOutlinedIcon from '@mui/icons-material/VisibilityOffOutlined';
import VisibilityOutlinedIcon from '@mui/icons-material/VisibilityOutlined';
import { useState } from 'react';
import {
  FACES_PER_PAGE,
  getPerson,
  getPersonFaces,
  moveFaces,
  patchPerson,
  PEOPLE_PER_PAGE,
  rejectFaces,
} from '../api/people';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { PhotoGallery } from '../../../components/PhotoGallery';
import { DownloadAllButton } from '../../../components/DownloadAllButton';
import { plural } from '../../../lib/format';
import type { Person, PersonFace } from '../../../types/api';
import { useSession } from '../../auth/session-context';
import { FaceGrid } from './FaceGrid';
import { FlagChips } from './FlagChips';
import { InlineName } from './InlineName';
import { LoginRequired } from './LoginRequired';
import { MoveFacesDialog } from './MoveFacesDialog';
import { useCorrections } from './useCorrections';
import { useLoad } from './usePaged';
import { useSelection } from './useSelection';

interface Props {
  personId: number;
  page: number;
  onPage: (page: number) => void;
}

const nameOf = (p: Pick<Person, 'id' | 'name'>) => p.name || `Person ${p.id}`;

/** One person: their photos in the gallery grid; the organiser also sees their faces and corrects them. */
export function PersonPage({ personId, page, onPage }: Props) {
  const { organiser } = useSession();
  const [version, setVersion] = useState(0);
  const [facesPage, setFacesPage] = useState(1);
  const [moving, setMoving] = useState(false);
  const selection = useSelection<PersonFace>();
  const corrections = useCorrections(() => {
    selection.clear();
    setVersion((v) => v + 1);
  });

  const { data, error, loading, retry } = useLoad(`person:${personId}:${page}:${organiser}:${version}`, (signal) =>
    getPerson(personId, page, PEOPLE_PER_PAGE, signal),
  );
  const faces = useLoad(`faces:${personId}:${facesPage}:${organiser}:${version}`, (signal) =>
    organiser ? getPersonFaces(personId, facesPage, FACES_PER_PAGE, signal) : Promise.resolve(null),
  );
  const person = data?.person;
  const ids = data?.photos.map((p) => p.id) ?? [];

  if (error?.code === 'login_required') return <LoginRequired />;

  const rename = (name: string | null) =>
    corrections.run(async () => {
      const p = await patchPerson(personId, { name });
      return p.name ? `Renamed to “${p.name}”.` : 'The name was removed.';
    });
  const hide = (hidden: boolean) =>
    void corrections.run(async () => {
      const p = await patchPerson(personId, { hidden });
      return hidden ? `${nameOf(p)} is hidden from visitors.` : `${nameOf(p)} is shown to visitors again.`;
    });
  const move = (to: number | null, toName: string) =>
    void corrections
      .run(async () => {
        const count = selection.ids.length;
        const target = await moveFaces(selection.ids, to);
        return `Moved ${plural(count, 'face')} to ${to === null ? `a new person, ${nameOf(target)}` : toName}.`;
      })
      .then((ok) => ok && setMoving(false));
  const reject = () =>
    void corrections.run(async () => {
      const { rejected } = await rejectFaces(selection.ids);
      return `${plural(rejected, 'face')} marked as not a face.`;
    });

  const gone = error?.code === 'not_found';
  const faceList = faces.data?.faces ?? [];

  return (
    <Stack spacing={2.5}>
      <Box>
        <Button href="#/people" startIcon={<ArrowBackIcon />} color="inherit" size="small">
          All people
        </Button>
      </Box>

      {error && (
        <ErrorAlert
          error={
            gone
              ? {
                  message: version > 0 ? 'Nobody is left here: every face of this person was moved or rejected.' : 'This person could not be found.',
                  hint: version > 0 ? 'Undo brings them back.' : error.hint,
                }
              : error
          }
          action={
            gone ? undefined : (
              <Button color="inherit" size="small" onClick={retry}>
                Try again
              </Button>
            )
          }
        />
      )}

      {loading && <LinearProgress aria-label="Loading photos" />}

      {person && data && (
        <>
          <Stack
            direction={{ xs: 'column', sm: 'row' }}
            spacing={2}
            sx={{ alignItems: { xs: 'flex-start', sm: 'center' }, justifyContent: 'space-between' }}
          >
            <Stack direction="row" spacing={2} sx={{ alignItems: 'center', minWidth: 0, opacity: person.hidden ? 0.6 : 1 }}>
              <Avatar src={person.cover_url ?? undefined} alt={`Face of ${person.name || `Person ${person.id}`}`} sx={{ width: 72, height: 72, boxShadow: 2 }} />
              <Box sx={{ minWidth: 0 }}>
                {organiser ? (
                  <InlineName name={person.name} fallback={`Person ${person.id}`} onSave={rename} variant="h4" component="h1" heading />
                ) : (
                  <Typography variant="h4" component="h1" sx={{ fontWeight: 700, fontSize: { xs: '1.5rem', sm: '2rem' } }}>
                    {nameOf(person)}
                  </Typography>
                )}
                <Typography variant="body2" color="text.secondary">
                  {plural(data.total, 'photo')} · {plural(person.face_count, 'face')}
                </Typography>
                {(person.flags?.length > 0 || (organiser && person.hidden)) && (
                  <Stack direction="row" sx={{ mt: 0.75, flexWrap: 'wrap', gap: 0.5 }}>
                    {organiser && person.hidden && <Chip size="small" icon={<VisibilityOffOutlinedIcon />} label="Hidden from visitors" />}
                    <FlagChips flags={person.flags} />
                  </Stack>
                )}
              </Box>
            </Stack>
            <Stack direction="row" sx={{ flexWrap: 'wrap', gap: 1 }}>
              {organiser && (
                <Button
                  variant="outlined"
                  color="inherit"
                  disabled={corrections.busy}
                  startIcon={person.hidden ? <VisibilityOutlinedIcon /> : <VisibilityOffOutlinedIcon />}
                  onClick={() => hide(!person.hidden)}
                >
                  {person.hidden ? 'Unhide' : 'Hide from visitors'}
                </Button>
              )}
              {ids.length > 0 && (
                <DownloadAllButton
                  photoIds={ids}
                  label={data.pages > 1 ? `Download this page (${ids.length})` : undefined}
                />
              )}
            </Stack>
          </Stack>

          {organiser && (
            <Stack spacing={1.5} component="section" aria-labelledby="faces-title">
              <Box>
                <Typography id="faces-title" variant="h6" component="h2">
                  Faces
                </Typography>
                <Typography variant="body2" color="text.secondary">
                  Click faces that are not this person (shift-click selects a range), then move them to someone else, or
                  mark them as not a face.
                </Typography>
              </Box>
              <ErrorAlert error={faces.error} />
              {faces.data && (
                <FaceGrid
                  faces={faceList}
                  selected={selection.selected}
                  onClick={(i, shift) => selection.click(faceList, i, shift)}
                  label={`Faces of ${nameOf(person)}`}
                />
              )}
              {faces.data && faces.data.pages > 1 && (
                <Stack sx={{ alignItems: 'center' }}>
                  <Pagination
                    count={faces.data.pages}
                    page={faces.data.page}
                    onChange={(_, p) => setFacesPage(p)}
                    color="primary"
                    aria-label="Face pages"
                  />
                </Stack>
              )}
              <Typography variant="h6" component="h2" sx={{ pt: 1 }}>
                Photos
              </Typography>
            </Stack>
          )}

          {data.photos.length > 0 ? (
            <PhotoGallery photos={data.photos} label={`Photos of Person ${person.id}`} />
          ) : (
            <Typography color="text.secondary">No photos on this page.</Typography>
          )}
          {data.pages > 1 && (
            <Stack sx={{ alignItems: 'center' }}>
              <Pagination count={data.pages} page={data.page} onChange={(_, p) => onPage(p)} color="primary" aria-label="Photo pages" />
            </Stack>
          )}
        </>
      )}

      {organiser && selection.ids.length > 0 && (
        <Paper
          elevation={6}
          role="toolbar"
          aria-label="Selected faces"
          sx={{ position: 'sticky', bottom: corrections.noteOpen ? 80 : 16, alignSelf: 'center', px: 2, py: 1, display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 1, borderRadius: 3 }}
        >
          <Typography variant="body2" sx={{ fontWeight: 600, mr: 1 }}>
            {plural(selection.ids.length, 'face')} selected
          </Typography>
          <Button variant="contained" size="small" startIcon={<DriveFileMoveOutlinedIcon />} disabled={corrections.busy} onClick={() => setMoving(true)}>
            Move to…
          </Button>
          <Button size="small" color="warning" variant="outlined" startIcon={<BlockIcon />} disabled={corrections.busy} onClick={reject}>
            Not a face
          </Button>
          <Button size="small" color="inherit" onClick={selection.clear}>
            Clear
          </Button>
        </Paper>
      )}
      {moving && selection.ids.length > 0 && (
        <MoveFacesDialog
          faceCount={selection.ids.length}
          fromId={personId}
          busy={corrections.busy}
          onCancel={() => setMoving(false)}
          onMove={move}
        />
      )}
      {organiser && corrections.snackbar}
    </Stack>
  );
}
