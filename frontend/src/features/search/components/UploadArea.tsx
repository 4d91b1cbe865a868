import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import AddPhotoAlternateOutlinedIcon from '@mui/icons-material/AddPhotoAlternateOutlined';
import CloudUploadOutlinedIcon from '@mui/icons-material/CloudUploadOutlined';
import PhotoCameraFrontOutlinedIcon from '@mui/icons-material/PhotoCameraFrontOutlined';
import { useRef, useState, type ChangeEvent, type DragEvent } from 'react';
import { hasTouchScreen } from '../../../lib/pointer';
import { ERROR_TEXTS, MAX_SAMPLES } from '../../../lib/api-client';

export interface UploadProblem {
  code: 'too_many_files' | 'not_an_image';
  message: string;
  hint?: string;
}

interface Props {
  /** How many samples are already there (the total may not go over MAX_SAMPLES). */
  existingCount: number;
  onFiles: (files: File[]) => void;
  /** Called with a problem when files are refused, or null when a batch was fine. */
  onProblem: (problem: UploadProblem | null) => void;
  disabled?: boolean;
  /** Smaller version, shown next to samples already added. */
  compact?: boolean;
}

/** Visually hidden but still usable by assistive tech and by tests. */
const HIDDEN_INPUT = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
} as const;

function isImage(file: File): boolean {
  if (file.type) return file.type.startsWith('image/');
  return /\.(jpe?g|png|gif|webp|bmp|tiff?|heic|heif|avif)$/i.test(file.name);
}

/** Checks a batch of files; returns the files to add and the problem, if any. */
function checkFiles(files: File[], existingCount: number): { accepted: File[]; problem: UploadProblem | null } {
  if (files.length === 0) return { accepted: [], problem: null };
  const images = files.filter(isImage);
  const others = files.filter((f) => !isImage(f));
  let problem: UploadProblem | null = null;
  if (others.length > 0) {
    const names = others.map((f) => f.name).join(', ');
    problem = {
      code: 'not_an_image',
      message:
        others.length === 1 ? `${names} is not an image.` : `These files are not images: ${names}.`,
      hint: 'Only photos (JPEG, PNG, WebP…) can be used as samples.',
    };
  }
  if (existingCount + images.length > MAX_SAMPLES) {
    const room = Math.max(0, MAX_SAMPLES - existingCount);
    return {
      accepted: [],
      problem: {
        code: 'too_many_files',
        message: ERROR_TEXTS.too_many_files.message,
        hint:
          room > 0
            ? `You can add ${room} more. Pick fewer photos, or remove some samples first.`
            : 'Remove some samples before adding others.',
      },
    };
  }
  return { accepted: images, problem };
}

/** Drop zone + file picker for the sample photos (1 to MAX_SAMPLES images). */
export function UploadArea({ existingCount, onFiles, onProblem, disabled, compact }: Props) {
  const inputRef = useRef<HTMLInputElement>(null);
  // A second input with capture="user": on a phone it opens the front camera at once, which the
  // plain input cannot (and capture on the plain input would take away choosing from the library).
  const selfieRef = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  function take(list: FileList | null | undefined) {
    const files = list ? Array.from(list) : [];
    if (files.length === 0) return;
    const { accepted, problem } = checkFiles(files, existingCount);
    onProblem(problem);
    if (accepted.length > 0) onFiles(accepted);
  }

  function onChange(e: ChangeEvent<HTMLInputElement>) {
    take(e.target.files);
    e.target.value = ''; // so picking the same file again still fires a change
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (!disabled) take(e.dataTransfer?.files);
  }

  function onDragOver(e: DragEvent) {
    e.preventDefault();
    if (!disabled) setDragging(true);
  }

  const left = MAX_SAMPLES - existingCount;

  return (
    <Box
      data-testid="upload-area"
      onDrop={onDrop}
      onDragOver={onDragOver}
      onDragEnter={onDragOver}
      onDragLeave={() => setDragging(false)}
      onClick={(e) => {
        if (e.target === e.currentTarget && !disabled) inputRef.current?.click();
      }}
      sx={{
        border: '2px dashed',
        borderColor: dragging ? 'primary.main' : 'divider',
        bgcolor: dragging ? 'action.hover' : 'background.paper',
        borderRadius: 3,
        p: compact ? 2 : { xs: 3, sm: 5 },
        height: compact ? '100%' : undefined,
        minHeight: compact ? 160 : undefined,
        display: 'flex',
        flexDirection: 'column',
        alignItems: 'center',
        justifyContent: 'center',
        gap: compact ? 1 : 1.5,
        textAlign: 'center',
        cursor: disabled ? 'default' : 'pointer',
        transition: 'border-color .15s, background-color .15s',
        '&:hover': disabled ? undefined : { borderColor: 'primary.light' },
      }}
    >
      {compact ? (
        <AddPhotoAlternateOutlinedIcon color="primary" sx={{ fontSize: 36, pointerEvents: 'none' }} />
      ) : (
        <CloudUploadOutlinedIcon color="primary" sx={{ fontSize: 56, pointerEvents: 'none' }} />
      )}
      {!compact && (
        <Typography variant="h6" component="p" sx={{ pointerEvents: 'none' }}>
          {/* Nothing can be dropped on a phone: there the heading only says what to add. */}
          {hasTouchScreen() ? 'Add photos of the person' : 'Drop photos of the person here'}
        </Typography>
      )}
      <Button
        variant={compact ? 'outlined' : 'contained'}
        size={compact ? 'small' : 'large'}
        onClick={() => inputRef.current?.click()}
        disabled={disabled || left <= 0}
        startIcon={compact ? undefined : <AddPhotoAlternateOutlinedIcon />}
      >
        {compact ? 'Add photos' : 'Choose photos'}
      </Button>
      <Button
        variant="outlined"
        size={compact ? 'small' : 'large'}
        onClick={() => selfieRef.current?.click()}
        disabled={disabled || left <= 0}
        startIcon={<PhotoCameraFrontOutlinedIcon />}
        data-testid="selfie-button"
        // Only where there is a touch screen (a phone or tablet): a desktop has no front camera
        // to open this way, and its file picker is already the other button.
        sx={{ display: 'none', '@media (pointer: coarse)': { display: 'inline-flex' } }}
      >
        Take a selfie
      </Button>
      <Typography variant="body2" color="text.secondary" sx={{ pointerEvents: 'none' }}>
        {compact
          ? `${left} more allowed`
          : `1 to ${MAX_SAMPLES} photos · a clear, front-facing face works best`}
      </Typography>
      <input
        ref={inputRef}
        type="file"
        accept="image/*"
        multiple
        aria-label="Upload sample photos of the person"
        data-testid="upload-input"
        onChange={onChange}
        disabled={disabled}
        tabIndex={-1}
        style={HIDDEN_INPUT}
      />
      <input
        ref={selfieRef}
        type="file"
        accept="image/*"
        capture="user"
        aria-label="Take a selfie with the front camera"
        data-testid="selfie-input"
        onChange={onChange}
        disabled={disabled}
        tabIndex={-1}
        style={HIDDEN_INPUT}
      />
    </Box>
  );
}
