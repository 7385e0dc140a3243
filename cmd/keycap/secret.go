package main

import "github.com/keycaphq/keycap/internal/serversecret"

// keyring is the app's server secrets, as the example reads them:
// KEYCAP_SECRETS ("2:<hex>,1:<hex>") or KEYCAP_SECRET (the secret "1").
type keyring = serversecret.Ring

// keyring reads the secrets from the environment; none is a zero keyring.
func (c *cli) keyring() (keyring, error) {
	if text := c.getenv("KEYCAP_SECRETS"); text != "" {
		k, err := serversecret.Parse(text)
		if err != nil {
			return keyring{}, usageError{"KEYCAP_SECRETS: " + err.Error()}
		}
		return k, nil
	}
	if text := c.getenv("KEYCAP_SECRET"); text != "" {
		s, err := serversecret.Decode(text)
		if err != nil {
			return keyring{}, usageError{"KEYCAP_SECRET: " + err.Error()}
		}
		return keyring{ID: "1", Secret: s}, nil
	}
	return keyring{}, nil
}
