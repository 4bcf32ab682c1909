// Failed console logins grouped by source IP: password guessing and credential stuffing.
//
// Parameters
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// A failed login is an IAM `loginFailed` trace, or a `login` trace rated warning or incident.
// Many attempts from one IP, or one IP trying many users, is the pattern to look for
// (detection rules commonly alert at about 10 failures per IP within minutes).
MATCH (a:Action)
WHERE datetime($from) <= a.time < datetime($to)
  AND (a.name = 'loginFailed' OR (a.name = 'login' AND a.rating IN ['warning', 'incident']))
MATCH (a)-[:FROM_IP]->(ip:IpAddress)
OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
WITH ip, count(a) AS failures, collect(DISTINCT u.name) AS users,
     min(a.time) AS firstAttempt, max(a.time) AS lastAttempt
RETURN ip.address AS sourceIp, failures, size(users) AS distinctUsers, users,
       firstAttempt, lastAttempt
ORDER BY failures DESC, sourceIp
