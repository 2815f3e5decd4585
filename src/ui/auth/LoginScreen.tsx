import {Box, Text, useInput, useStderr} from 'ink'
import {useEffect, useRef, useState} from 'react'
import {escapeControls} from '../../core/escape.js'
import {formatRemaining, type LoginViewState} from './login-view.js'

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

function useTicker(intervalMs: number): number {
  const [tick, setTick] = useState(0)
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), intervalMs)
    return () => clearInterval(timer)
  }, [intervalMs])
  return tick
}

export function Spinner() {
  const tick = useTicker(80)
  return <Text color="cyan">{SPINNER[tick % SPINNER.length]}</Text>
}

export function Countdown({expiresAt, now = Date.now}: {expiresAt: number; now?: () => number}) {
  useTicker(1000)
  const left = expiresAt - now()
  return (
    <Text color={left < 60_000 ? 'yellow' : undefined}>{left > 0 ? `${formatRemaining(left)} left` : 'expired'}</Text>
  )
}

export function CodeBox({code}: {code: string}) {
  return (
    <Box borderStyle="round" borderColor="cyan" paddingX={2} alignSelf="flex-start">
      <Text>
        Code: <Text bold>{code}</Text>
      </Text>
    </Box>
  )
}

/** One line of text input: Enter submits, a pasted newline too. */
export function LineInput({prompt, onSubmit}: {prompt: string; onSubmit: (line: string) => void}) {
  const [value, setValue] = useState('')
  const current = useRef('')
  useInput((input, key) => {
    if (
      key.ctrl ||
      key.meta ||
      key.escape ||
      key.tab ||
      key.upArrow ||
      key.downArrow ||
      key.leftArrow ||
      key.rightArrow
    )
      return
    let next = current.current
    if (key.backspace || key.delete) next = next.slice(0, -1)
    else next += input
    const end = key.return ? next.length : next.search(/[\r\n]/)
    if (end >= 0) {
      const line = next.slice(0, end).trim()
      next = ''
      if (line !== '') onSubmit(line)
    }
    current.current = next
    setValue(next)
  })
  return (
    <Text wrap="truncate-start">
      {prompt}
      {/* A paste comes from a clipboard that a web page may have filled. */}
      {escapeControls(value)}
      <Text inverse> </Text>
    </Text>
  )
}

/** Writes new log lines above the live area, unwrapped, so a URL stays one copyable line. */
function Log({lines}: {lines: string[]}) {
  const {write} = useStderr()
  const written = useRef(0)
  useEffect(() => {
    if (lines.length <= written.current) return
    write(`${lines.slice(written.current).join('\n')}\n`)
    written.current = lines.length
  }, [lines, write])
  return null
}

export interface LoginScreenProps {
  state: LoginViewState
  onCancel: () => void
  /** Receives a pasted redirect URL; the input is shown only while the login accepts one. */
  onPaste?: (line: string) => void
  now?: () => number
}

export function LoginScreen({state, onCancel, onPaste, now}: LoginScreenProps) {
  const {device, waiting, note, step, done} = state
  useInput((input, key) => {
    if ((key.ctrl && input === 'c') || key.escape) onCancel()
  })
  return (
    <Box flexDirection="column">
      <Log lines={state.log} />
      {device && <CodeBox code={device.userCode} />}
      {waiting && (
        <Text>
          <Spinner /> {waiting.label} · <Countdown expiresAt={waiting.expiresAt} now={now} />
        </Text>
      )}
      {note && <Text color="yellow">{note}</Text>}
      {waiting?.paste && onPaste && (
        <LineInput
          prompt={waiting.paste === 'required' ? 'Paste the link: ' : 'Or paste the address: '}
          onSubmit={onPaste}
        />
      )}
      {step && (
        <Text>
          <Spinner /> {step}…
        </Text>
      )}
      {done && <Text color="green">✔ {done}</Text>}
      {(waiting || step) && <Text dimColor>Esc or Ctrl-C to cancel</Text>}
    </Box>
  )
}
