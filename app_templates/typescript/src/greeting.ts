/** The text the application prints. */
export function greeting(name: string = "world"): string {
  return `Hello, ${name}!`;
}
