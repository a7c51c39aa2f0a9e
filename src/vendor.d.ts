/** The `lerc` package (LERC decoder, a dependency of geotiff.js) ships no type declarations. */
declare module 'lerc';
