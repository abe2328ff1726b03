// The application: go run .
package main

import "fmt"

// Greeting is the text the application prints.
func Greeting(name string) string {
	return fmt.Sprintf("Hello, %s!", name)
}

func main() {
	fmt.Println(Greeting("world"))
}
