package demo

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
)

// product is one item of the demo shop.
type product struct {
	ID    int
	Name  string
	Price string
	Blurb string
}

// catalogue is the demo shop's stock. It is never modified.
var catalogue = []product{
	{1, "Red running shoes", "89.00", "Light, bright and fast."},
	{2, "Linen shirt", "45.00", "Cool on the hottest day."},
	{3, "Women's rain jacket", "120.00", "Taped seams, two pockets."},
	{4, "Union Jack mug", "12.50", "Holds a proper cup of tea."},
	{5, "O'Reilly book bundle", "64.00", "Three classics, one box."},
	{6, "Wireless headphones", "149.00", "Thirty hours per charge."},
	{7, "Kids' raincoat", "35.00", "Reflective trim."},
	{8, "Drop earrings", "28.00", "Sterling silver."},
	{9, "USB-C charger 65W", "39.00", "One plug for laptop and phone."},
	{10, "Half-zip fleece", "55.00", "Recycled polyester."},
	{11, "Select-fit jeans", "79.00", "Straight leg, stretch denim."},
	{12, "Gift card", "25.00", "Any amount, never expires."},
}

var pages = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Vigil demo shop</title>
<script src="/static/app.js" defer></script></head>
<body><header><a href="/">Vigil demo shop</a> · <a href="/products">Products</a> · <a href="/login">Sign in</a>
<form action="/search"><input name="q" value="{{.Query}}" placeholder="Search"></form></header>
<main><h1>{{.Title}}</h1>
{{with .Message}}<p>{{.}}</p>{{end}}
{{if .Login}}<form method="post" action="/login"><input name="email" type="email"> <input name="password" type="password"> <button>Sign in</button></form><p><a href="/signup">Create an account</a></p>{{end}}
{{if .Signup}}<form method="post" action="/signup"><input name="name"> <input name="email" type="email"> <input name="password" type="password"> <button>Create account</button></form>{{end}}
{{with .Products}}<ul>{{range .}}<li><a href="/products/{{.ID}}">{{.Name}}</a> — £{{.Price}}<br>{{.Blurb}}</li>{{end}}</ul>{{end}}
</main>
<footer>{{with .Verdict}}Checked by Vigil: {{.Action}}, score {{.Score}}, client {{.ClientIP}}{{with .Enrichment.Client}} ({{.}}){{end}}, request {{.RequestID}}{{end}}</footer>
</body></html>
`))

// page is what the layout shows.
type page struct {
	Title    string
	Message  string
	Query    string
	Login    bool
	Signup   bool
	Products []product
	Verdict  *vigil.Verdict
}

const appJS = `// Vigil demo shop
document.addEventListener("click", async (e) => {
  const b = e.target.closest("[data-add]");
  if (!b) return;
  await fetch("/api/cart", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({product_id: Number(b.dataset.add), quantity: 1})});
});
`

// newShop returns the demo app: a pretend shop with pages, search, a login form, a
// signup form, a JSON cart API, robots.txt and a static script. It shows the guard's
// verdict (vigil.VerdictFrom) in every page's footer. It keeps no state: the shoppers'
// accounts (logins) sign in, every other login is refused with 401, signups always
// succeed and the cart is forgotten.
func newShop() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, http.StatusOK, page{Title: "Welcome", Message: "Everything here is pretend.", Products: catalogue[:4]})
	})
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, http.StatusOK, page{Title: "Products", Products: catalogue})
	})
	mux.HandleFunc("GET /products/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 1 || id > len(catalogue) {
			render(w, r, http.StatusNotFound, page{Title: "Not found", Message: "No such product."})
			return
		}
		p := catalogue[id-1]
		render(w, r, http.StatusOK, page{Title: p.Name, Products: []product{p}})
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		var found []product
		for _, p := range catalogue {
			if q != "" && strings.Contains(strings.ToLower(p.Name), strings.ToLower(q)) {
				found = append(found, p)
			}
		}
		render(w, r, http.StatusOK, page{Title: "Search", Query: q, Message: fmt.Sprintf("%d results.", len(found)), Products: found})
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, http.StatusOK, page{Title: "Sign in", Login: true})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil || r.PostForm.Get("email") == "" || r.PostForm.Get("password") == "" {
			render(w, r, http.StatusBadRequest, page{Title: "Sign in", Message: "E-mail and password, please.", Login: true})
			return
		}
		if !knownLogin(r.PostForm.Get("email"), r.PostForm.Get("password")) {
			// The failure status is what the guard's credential-stuffing detection counts.
			render(w, r, http.StatusUnauthorized, page{Title: "Sign in", Message: "Wrong e-mail or password.", Login: true})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: rand.Text(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /signup", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, http.StatusOK, page{Title: "Create an account", Signup: true})
	})
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil || r.PostForm.Get("email") == "" || r.PostForm.Get("password") == "" {
			render(w, r, http.StatusBadRequest, page{Title: "Create an account", Message: "E-mail and password, please.", Signup: true})
			return
		}
		// The guard has checked the address (policy signups); a disposable one never
		// gets here. Nothing is stored: the new account is signed in and forgotten.
		http.SetCookie(w, &http.Cookie{Name: "session", Value: rand.Text(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "User-agent: *\nDisallow: /account\nDisallow: /api/\n")
	})
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("session"); err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		render(w, r, http.StatusOK, page{Title: "Your account", Message: "You are signed in."})
	})
	mux.HandleFunc("POST /api/cart", func(w http.ResponseWriter, r *http.Request) {
		var line struct {
			ProductID int    `json:"product_id"`
			Quantity  int    `json:"quantity"`
			Note      string `json:"note"`
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&line); err != nil ||
			line.ProductID < 1 || line.ProductID > len(catalogue) || line.Quantity < 1 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, `{"error":"a cart line needs a product_id and a positive quantity"}`)
			return
		}
		fmt.Fprintf(w, "{\"ok\":true,\"product_id\":%d,\"quantity\":%d}\n", line.ProductID, line.Quantity)
	})
	mux.HandleFunc("GET /static/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fmt.Fprint(w, appJS)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every first visit gets a session-tracking cookie, as shops do.
		if _, err := r.Cookie("sid"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: rand.Text(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		mux.ServeHTTP(w, r)
	})
}

// knownLogin reports whether email and password are one of the shoppers' accounts.
func knownLogin(email, password string) bool {
	for _, l := range logins {
		if l[0] == email && l[1] == password {
			return true
		}
	}
	return false
}

// render writes p in the layout with status, adding the guard's verdict.
func render(w http.ResponseWriter, r *http.Request, status int, p page) {
	p.Verdict = vigil.VerdictFrom(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pages.Execute(w, p) // the writer's error is the client's problem
}
