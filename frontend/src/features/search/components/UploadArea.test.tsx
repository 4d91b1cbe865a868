import { fireEvent, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { UploadArea } from './UploadArea';
import { imageFile, renderWithTheme } from '../../../test/utils';

function setup(existingCount = 0) {
  const onFiles = vi.fn();
  const onProblem = vi.fn();
  renderWithTheme(<UploadArea existingCount={existingCount} onFiles={onFiles} onProblem={onProblem} />);
  return { onFiles, onProblem, input: screen.getByLabelText(/upload sample photos/i) as HTMLInputElement };
}

describe('UploadArea', () => {
  it('has a labelled image input that takes several files', () => {
    const { input } = setup();
    expect(input).toHaveAttribute('type', 'file');
    expect(input).toHaveAttribute('accept', 'image/*');
    expect(input.multiple).toBe(true);
    expect(screen.getByRole('button', { name: /choose photos/i })).toBeInTheDocument();
  });

  it('offers dropping photos only where there is a mouse, not on a touch screen', () => {
    const coarse = (matches: boolean) =>
      vi.stubGlobal('matchMedia', (q: string) => ({ matches: matches && q === '(pointer: coarse)', media: q }) as MediaQueryList);
    coarse(false);
    const first = renderWithTheme(<UploadArea existingCount={0} onFiles={vi.fn()} onProblem={vi.fn()} />);
    expect(screen.getByText('Drop photos of the person here')).toBeInTheDocument();
    first.unmount();
    coarse(true);
    renderWithTheme(<UploadArea existingCount={0} onFiles={vi.fn()} onProblem={vi.fn()} />);
    expect(screen.getByText('Add photos of the person')).toBeInTheDocument();
    expect(screen.queryByText(/drop/i)).not.toBeInTheDocument();
    vi.unstubAllGlobals();
  });

  it('accepts picked images', async () => {
    const { input, onFiles, onProblem } = setup();
    const files = [imageFile('amy1.png'), imageFile('amy2.jpg', 'image/jpeg')];
    await userEvent.upload(input, files);
    expect(onFiles).toHaveBeenCalledWith(files);
    expect(onProblem).toHaveBeenCalledWith(null);
  });

  it('accepts dropped images', () => {
    const { onFiles } = setup();
    const file = imageFile('drop.png');
    fireEvent.drop(screen.getByTestId('upload-area'), { dataTransfer: { files: [file] } });
    expect(onFiles).toHaveBeenCalledWith([file]);
  });

  it('rejects more than 10 files', async () => {
    const { input, onFiles, onProblem } = setup();
    const files = Array.from({ length: 11 }, (_, i) => imageFile(`p${i}.png`));
    await userEvent.upload(input, files);
    expect(onFiles).not.toHaveBeenCalled();
    expect(onProblem).toHaveBeenCalledWith(expect.objectContaining({ code: 'too_many_files' }));
  });

  it('rejects a batch that would take the total over 10', async () => {
    const { input, onFiles, onProblem } = setup(8);
    await userEvent.upload(input, [imageFile('a.png'), imageFile('b.png'), imageFile('c.png')]);
    expect(onFiles).not.toHaveBeenCalled();
    expect(onProblem.mock.calls[0][0].hint).toMatch(/add 2 more/);
  });

  it('refuses a file that is not an image, naming it, and keeps the images', () => {
    const { input, onFiles, onProblem } = setup();
    const txt = new File(['hello'], 'notes.txt', { type: 'text/plain' });
    const png = imageFile('ok.png');
    fireEvent.change(input, { target: { files: [txt, png] } });
    expect(onFiles).toHaveBeenCalledWith([png]);
    expect(onProblem).toHaveBeenCalledWith(
      expect.objectContaining({ code: 'not_an_image', message: 'notes.txt is not an image.' }),
    );
  });
});

describe('UploadArea on a phone', () => {
  it('offers a selfie with the front camera next to choosing photos from the library', async () => {
    const { input, onFiles } = setup();
    // Choosing from the library: no capture, so phones still offer their photo library.
    expect(input).not.toHaveAttribute('capture');
    const selfie = screen.getByLabelText(/take a selfie/i) as HTMLInputElement;
    expect(selfie).toHaveAttribute('type', 'file');
    expect(selfie).toHaveAttribute('capture', 'user');
    expect(selfie).toHaveAttribute('accept', 'image/*');
    // Shown by a (pointer: coarse) media query, which jsdom does not match; e2e/candidates.e2e.mjs
    // checks it is visible on a touch screen and hidden on a desktop.
    expect(screen.getByTestId('selfie-button')).toHaveTextContent('Take a selfie');

    const shot = imageFile('selfie.jpg', 'image/jpeg');
    await userEvent.upload(selfie, shot);
    expect(onFiles).toHaveBeenCalledWith([shot]);
  });
});
