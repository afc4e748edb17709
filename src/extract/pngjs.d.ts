// pngjs ships no types: the two synchronous calls this project uses.
declare module 'pngjs' {
  interface PngImage {
    width: number;
    height: number;
    data: Buffer;
  }
  export const PNG: {
    new (options: { width: number; height: number; colorType?: number; inputColorType?: number; bitDepth?: number; inputHasAlpha?: boolean }): PngImage;
    sync: {
      read(buffer: Buffer): PngImage;
      write(png: PngImage, options?: { colorType?: number; inputColorType?: number; bitDepth?: number; inputHasAlpha?: boolean }): Buffer;
    };
  };
}
