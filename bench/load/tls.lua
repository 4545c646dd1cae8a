-- The TLS pair's request for wrk: browser.lua's twelve navigation headers, but with
-- curl's User-Agent. wrk's TLS is OpenSSL's, so with capture on, a Chrome User-Agent
-- would be (rightly) blocked as a spoofed client and the harness would measure 403s;
-- claiming curl, which uses OpenSSL, keeps the request allowed while the consistency
-- check still runs in full.
wrk.method = "GET"
wrk.path = "/products?page=2&sort=price"
wrk.headers["sec-ch-ua"] = '"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"'
wrk.headers["sec-ch-ua-mobile"] = "?0"
wrk.headers["sec-ch-ua-platform"] = '"Windows"'
wrk.headers["Upgrade-Insecure-Requests"] = "1"
wrk.headers["User-Agent"] = "curl/8.5.0"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
wrk.headers["Sec-Fetch-Site"] = "same-origin"
wrk.headers["Sec-Fetch-Mode"] = "navigate"
wrk.headers["Sec-Fetch-User"] = "?1"
wrk.headers["Sec-Fetch-Dest"] = "document"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.9,de;q=0.8"
wrk.headers["Cookie"] = "session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b; theme=dark"
