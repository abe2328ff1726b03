/** The text the application prints. */
export function greeting(name = "world") {
  return `Hello, ${name}!`;
}
