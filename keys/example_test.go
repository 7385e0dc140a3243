package keys_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

func ExampleManager_Pattern() {
	log := `token=kc_06we154rh3v7a04w_4I4XyPWN1Q07hkvr9d9A2jmNAG3UcFHG_0dfvIV user=u1`
	fmt.Println(exampleManager().Pattern().FindString(log))
	// Output: kc_06we154rh3v7a04w_4I4XyPWN1Q07hkvr9d9A2jmNAG3UcFHG_0dfvIV
}

// exampleUsers is the app's user database: the examples change it between
// requests.
var exampleUsers = map[string]policy.Subject{
	"u1": {ID: "u1", Roles: []string{"editor"}},
}

func exampleManager() *keys.Manager {
	m, err := keys.NewManager(keys.Config{
		Store: memstore.New(),
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles: map[string]policy.Permissions{
				"editor": policy.MustParse("files:read", "files:write"),
				"viewer": policy.MustParse("files:read"),
			},
			MaxLifetime: 90 * 24 * time.Hour,
		}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			s, ok := exampleUsers[id]
			if !ok {
				return policy.Subject{}, policy.ErrUnknownSubject
			}
			return s, nil
		}),
		Secret: []byte("an example secret of 32 bytes..."), // from a secret store in an app
		Now:    func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	return m
}

func ExampleManager_Create() {
	ctx := context.Background()
	m := exampleManager()

	k, key, err := m.Create(ctx, keys.CreateRequest{Owner: "u1", Name: "CI", Permissions: policy.MustParse("files:write")})
	fmt.Println(err, k.Permissions, k.ExpiresAt.Format(time.DateOnly))
	fmt.Println(m.Pattern().MatchString(key), strings.HasPrefix(key, "kc_"+k.ID+"_"))

	_, _, err = m.Create(ctx, keys.CreateRequest{Owner: "u1", Name: "CI", Permissions: policy.MustParse("files:delete")})
	var exceeds *policy.ExceedsError
	if errors.As(err, &exceeds) {
		fmt.Println("refused:", exceeds.Exceeded, "is beyond", exceeds.Maximum)
	}
	// Output:
	// <nil> files:write 2030-04-02
	// true true
	// refused: files:delete is beyond files:read files:write
}

func ExampleManager_Verify() {
	ctx := context.Background()
	m := exampleManager()
	_, key, _ := m.Create(ctx, keys.CreateRequest{Owner: "u1", Name: "CI", Permissions: policy.MustParse("files:read", "files:write")})

	v, err := m.Verify(ctx, key, "")
	fmt.Println(v.Permissions, err)

	exampleUsers["u1"] = policy.Subject{ID: "u1", Roles: []string{"viewer"}} // demoted
	v, err = m.Verify(ctx, key, "")
	fmt.Println(v.Permissions, err)

	exampleUsers["u1"] = policy.Subject{ID: "u1", Roles: []string{"viewer"}, Disabled: true}
	_, err = m.Verify(ctx, key, "")
	fmt.Println(err, errors.Is(err, keys.ErrInvalid))

	_, err = m.Verify(ctx, key[:len(key)-1]+"x", "")
	fmt.Println(err)

	exampleUsers["u1"] = policy.Subject{ID: "u1", Roles: []string{"editor"}}
	// Output:
	// files:read files:write <nil>
	// files:read <nil>
	// keys: invalid key: owner unknown or disabled true
	// keys: invalid key: malformed (form or checksum)
}
